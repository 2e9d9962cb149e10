# Turn a text file into a C source defining `const char NAME[]` with its bytes, so the store
# DDL and the attribute catalogs ship inside the binary while the files stay the source of
# truth.  With -DFIELDS=1 every tab and newline becomes a NUL, so each field of a
# tab-separated file is a C string in place (schema/catalog/*.attrs, read by rules/catalog.c).
# Usage: cmake -DIN=file -DOUT=file.c -DNAME=symbol [-DFIELDS=1] -P embed.cmake
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
if(FIELDS)
  string(REPLACE "0x09," "0x00," bytes "${bytes}")
  string(REPLACE "0x0a," "0x00," bytes "${bytes}")
endif()
file(WRITE ${OUT} "/* Generated from ${IN}; do not edit. */\nconst char ${NAME}[] = {${bytes} 0x00};\n")
