# Install layout and the Debian package (docs/operations.md).  Everything installs under
# CMAKE_INSTALL_PREFIX, the systemd units and bash completion too, so `cmake --install
# --prefix P` and DESTDIR installs stay inside P; the package (prefix /usr) puts them where
# Debian looks.  Included from the top-level CMakeLists.txt.
include(GNUInstallDirs)

set(MVSYNC_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, relative to the install prefix")
set(MVSYNC_CONFIG_DIR "/etc/mvsync" CACHE PATH "The rule set the units run (MVSYNC_RULES)")
set(MVSYNC_STATE_DIR "/var/lib/mvsync" CACHE PATH "The store's directory the units use")
set(pkg ${CMAKE_SOURCE_DIR}/tools/packaging)

install(TARGETS mvsync RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB MVSYNC_MAN1 CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.1)
file(GLOB MVSYNC_MAN5 CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.5)
install(FILES ${MVSYNC_MAN1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${MVSYNC_MAN5} DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        PATTERN man EXCLUDE)
# The example rule sets; demo/ also gets the sample directories it reads (tests/data/demo),
# so the file-connector demo runs from the installed copy.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/rules/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/tests/data/demo/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/demo)
install(FILES ${pkg}/mvsync.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME mvsync)

# The service names the installed binary, which is known only when installing: cpack
# installs with its own prefix (/usr), `cmake --install --prefix` with another.  So it is
# configured straight into place (DESTDIR honoured), and recorded in the install manifest.
install(CODE "
  set(MVSYNC_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(MVSYNC_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  set(MVSYNC_CONFIG_DIR \"${MVSYNC_CONFIG_DIR}\")
  set(MVSYNC_STATE_DIR \"${MVSYNC_STATE_DIR}\")
  set(unit \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${MVSYNC_SYSTEMD_UNIT_DIR}/mvsync.service\")
  message(STATUS \"Installing: \${unit}\")
  configure_file(\"${pkg}/mvsync.service.in\" \"\${unit}\" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${CMAKE_INSTALL_PREFIX}/${MVSYNC_SYSTEMD_UNIT_DIR}/mvsync.service\")")
install(FILES ${pkg}/mvsync.timer DESTINATION ${MVSYNC_SYSTEMD_UNIT_DIR})

# `cpack -G DEB` (in the build directory): mvsync_VERSION_ARCH.deb for Debian 12.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mvsync)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "mvsync maintainers <mvsync@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "identity synchronization engine for AD and Entra ID")
set(CPACK_PACKAGE_DESCRIPTION "Synchronizes identities between Active Directory (LDAP) and \
Entra ID (Microsoft Graph) with sync rules kept as text files, in the model of Entra Connect Sync.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "man-db, sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(MVSYNC_BINDIR ${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR})
foreach(script postinst prerm postrm)
  configure_file(${pkg}/${script}.in ${CMAKE_BINARY_DIR}/debian/${script} @ONLY)
  list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/debian/${script})
endforeach()
include(CPack)
