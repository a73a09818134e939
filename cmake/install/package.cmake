# `make deb`: a Debian package of what `make install` installs, under /usr. It has no
# maintainer scripts: installing it enables and starts nothing (the unit waits for
# `systemctl enable --now handoff`). Runtime dependencies from dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME handoff)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "handoff maintainers <handoff@localhost>")
# Installed with DESTDIR (the staging directory) and this prefix, as `make install` would.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The build is RelWithDebInfo: the package ships the binary without its debug symbols.
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "multi-process supervisor that hands accepted sockets to worker processes")
# The long description (CPack puts the summary above it and indents it).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "The master owns the ports and hands each accepted connection to a worker process
(Node.js or C++). This package ships the supervisor binary, the C++ worker SDK
(headers, static libraries, CMake package config for find_package(handoff)), the
Node worker SDK as an npm tarball, a hardened systemd unit and an example config.

Installing it neither enables nor starts a service: copy
/usr/share/doc/handoff/cluster.yaml.example to /etc/handoff/cluster.yaml, edit it,
then run systemctl enable --now handoff.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The SDK's static libraries need these to link (find_package(handoff) asks for them).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libuv1-dev, libxxhash-dev, pkg-config, cmake, g++, nodejs, npm")
include(CPack)
