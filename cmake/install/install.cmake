# `make install` (cmake --install, PREFIX and DESTDIR honoured) and `make deb` (CPack):
#   bin/supervisor
#   include/handoff/worker.h (+ handoff/protocols/defaults.h, which it includes)
#   lib/handoff/*.a and lib/cmake/handoff/ (find_package(handoff): handoff::worker)
#   share/handoff/node/handoff-worker-<version>.tgz (npm install it)
#   lib/systemd/system/handoff.service (neither enabled nor started)
#   share/doc/handoff/: cluster.yaml.example, systemd.md
# The unit names the binary and the config by the prefix the install runs with.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS supervisor RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES ${PROJECT_SOURCE_DIR}/worker-sdk/cpp/include/handoff/worker.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/handoff)
# worker.h includes "protocols/defaults.h": found beside it, in include/handoff/protocols.
install(FILES ${PROJECT_SOURCE_DIR}/protocols/defaults.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/handoff/protocols)
install(TARGETS handoff_worker handoff_uvglue handoff_protocols llhttp
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/handoff)

set(HANDOFF_CONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/handoff)
file(RELATIVE_PATH HANDOFF_CONFIG_TO_PREFIX /prefix/${HANDOFF_CONFIG_DIR} /prefix)
configure_file(${CMAKE_CURRENT_LIST_DIR}/handoff-config.cmake.in
               ${PROJECT_BINARY_DIR}/install/handoff-config.cmake @ONLY)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/install/handoff-config-version.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/install/handoff-config.cmake
              ${PROJECT_BINARY_DIR}/install/handoff-config-version.cmake
        DESTINATION ${HANDOFF_CONFIG_DIR})

if(NOT WIN32)
  install(FILES ${HANDOFF_NODE_PACKAGE} DESTINATION ${CMAKE_INSTALL_DATADIR}/handoff/node)
  install(FILES ${PROJECT_SOURCE_DIR}/configs/systemd/cluster.yaml.example
          DESTINATION ${CMAKE_INSTALL_DOCDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/configs/systemd/README.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME systemd.md)
  # The unit as the source has it names /usr/bin/supervisor, /etc/handoff and
  # /usr/share/doc/handoff (the .deb's
  # layout); another prefix gets its own paths, decided when the install runs.
  set(unit_source ${PROJECT_SOURCE_DIR}/configs/systemd/handoff.service)
  set(unit_staged ${PROJECT_BINARY_DIR}/install/handoff.service)
  install(CODE "
    set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
    if(prefix STREQUAL \"/usr\")
      set(etc /etc)
    else()
      set(etc \"\${prefix}/etc\")
    endif()
    file(READ \"${unit_source}\" unit)
    string(REPLACE \"/usr/bin/supervisor\" \"\${prefix}/${CMAKE_INSTALL_BINDIR}/supervisor\" unit \"\${unit}\")
    string(REPLACE \"/etc/handoff/\" \"\${etc}/handoff/\" unit \"\${unit}\")
    string(REPLACE \"/usr/share/doc/handoff/\" \"\${prefix}/${CMAKE_INSTALL_DOCDIR}/\" unit \"\${unit}\")
    file(WRITE \"${unit_staged}\" \"\${unit}\")
    file(INSTALL DESTINATION \"\${prefix}/lib/systemd/system\" TYPE FILE FILES \"${unit_staged}\")
  ")
endif()

include(${CMAKE_CURRENT_LIST_DIR}/package.cmake)
