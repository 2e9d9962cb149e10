# Turn a text file into a C source defining `const char NAME[]` with its bytes, so the store
# DDL ships inside the binary while schema/store.sql stays the source of truth.
# Usage: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN}; do not edit. */\nconst char ${NAME}[] = {${bytes} 0x00};\n")
