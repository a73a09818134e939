# Thin wrapper over CMake presets. `make run` and `make test` work on a fresh Debian 12
# machine as root: they install what is missing first.

PACKAGES := cmake ninja-build g++ pkg-config libuv1-dev libyaml-cpp-dev libboost-dev doctest-dev \
            nlohmann-json3-dev libxxhash-dev node-llhttp libcli11-dev nodejs npm node-ws libsystemd-dev \
            socat systemd util-linux stress-ng openssl iproute2 dpkg-dev file
# (dpkg-dev and file: `make deb`'s dependency list, dpkg-shlibdeps.)
# The Windows build: mingw-w64 cross compiler, wine to run it, dpkg-dev for `apt-get source`.
WINDOWS_PACKAGES := g++-mingw-w64-x86-64-posix wine64 dpkg-dev
CONFIG ?= configs/cluster.yaml
# `make install`: where to (and DESTDIR=/staging/dir to install below another root).
PREFIX ?= /usr/local
# The Node LTS binaries of the test suite (tools/node-lts): `make run`, `make test` and
# `make bench` run with PATH from `node-lts.sh path`, which puts the suite's default Node
# first when the system's node is older than the oldest supported line (Debian 12: 18).
# Not `make test-windows`: Windows Node 24 does not start under Debian 12's wine.
NODE_LTS := tools/node-lts/node-lts.sh
WITH_NODE = path=$$($(NODE_LTS) path) && PATH=$$path

.PHONY: all deps deps-windows packages-windows build build-asan build-windows run install deb test test-fast test-asan test-loaded test-multihost test-windows bench clean

all: build

# Installs the Debian packages of a list that are missing (as root; otherwise says what to run).
# A package counts as there when an installed one provides it (nodesource's nodejs
# provides npm).
define install_missing
	@missing=""; \
	provided=$$(dpkg-query -W -f='$${db:Status-Abbrev}$${Provides}\n' | sed -n 's/^ii *//p' | tr ',' '\n' | sed 's/^ *//; s/ .*//'); \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || \
	    echo "$$provided" | grep -qx "$$p" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make deps: these Debian packages are missing:$$missing"; \
	    echo "install them as root:  apt-get install -y$$missing   (or run make as root)"; \
	    exit 1; \
	  fi; \
	  echo "make deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

# Then the npm packages, each from its package-lock, once: the Node LTS binaries into
# build/node-lts, and the apps the tests run (tests/apps); and promtool, extracted from
# Debian's prometheus package without installing it (the package starts a server).
# Nothing installed here may start a service: tools/check-no-services.sh checks it.
deps:
	$(call install_missing,$(PACKAGES))
	@$(NODE_LTS) install
	@tools/npm-ci.sh tests/apps
	@tools/promtool/promtool.sh install
	@tools/check-no-services.sh $(PACKAGES)

build: deps
	cmake --preset default
	cmake --build --preset default

build-asan: deps
	cmake --preset asan
	cmake --build --preset asan

run: build
	$(WITH_NODE) build/bin/supervisor --config $(CONFIG)

# The binary, the C++ SDK (find_package(handoff)), the Node SDK's tarball, the systemd
# unit and an example config (cmake/install/install.cmake lists them). Enables nothing.
install: build
	DESTDIR=$(DESTDIR) cmake --install build --prefix $(PREFIX)

# The same as a Debian package under /usr: build/handoff_<version>_<arch>.deb.
deb: build
	cd build && cpack -G DEB

# The whole suite, then the whole suite again under AddressSanitizer + UBSan.
test: test-fast test-asan

test-fast: build
	$(WITH_NODE) ctest --preset default

test-asan: build-asan
	$(WITH_NODE) ctest --preset asan

# The lifecycle and fault tests once more beside a CPU hog on every core, as on a busy
# shared machine (tests/loaded.sh).
test-loaded: build
	tests/loaded.sh build/bin

# Several hosts (root, Linux): network namespaces on this machine, HAProxy and then nginx
# in front of 3 supervisors with Node chat workers, a host killed and brought back, a
# rolling upgrade (tests/multihost/, docs/deploy.md; seconds). Their own services are
# neither started nor enabled when installed here.
test-multihost: build
	@tools/install-without-service.sh haproxy nginx python3-yaml
	$(WITH_NODE) tests/multihost/run.sh build/bin
	deploy/kubernetes/check.py build/bin/supervisor

# Windows: cross-build (dependencies from Debian sources, once), then the unit tests and
# the integration suite under wine64 with Linux-side clients (docs/windows.md).
deps-windows: deps packages-windows
	windows/deps.sh

# The Windows build's Debian packages alone (.ci/run installs every package first, one apt
# at a time, and cross-builds the rest beside the Linux suite).
packages-windows:
	$(call install_missing,$(WINDOWS_PACKAGES))
	@tools/check-no-services.sh $(WINDOWS_PACKAGES)

build-windows: deps-windows
	cmake --preset windows
	cmake --build --preset windows

test-windows: build-windows
	windows/test.sh

# Every configuration side by side (bench/run.sh, about 13 minutes; BENCH_ARGS=--quick: 3).
bench: deps
	$(WITH_NODE) bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf build build-asan build-release build-windows
