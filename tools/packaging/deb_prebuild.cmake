# Run by cpack on the staged files before it builds the .deb (CPACK_PRE_BUILD_SCRIPTS): Debian
# policy 12.1 wants man pages compressed with `gzip -9n` (-n: no name or time stamp, so the
# same pages give the same package).  `cmake --install` leaves them plain.
file(GLOB_RECURSE pages "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
list(FILTER pages INCLUDE REGEX "/share/man/man[0-9]/[^/]+\\.[0-9]$")
if(NOT pages)
  message(FATAL_ERROR "no man pages staged under ${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
endif()
foreach(page ${pages})
  execute_process(COMMAND gzip -9nf "${page}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip -9n ${page} failed")
  endif()
endforeach()
