# The two commands a newcomer needs: `make test` and `make demo`. Each installs what is missing
# (scripts/install-deps: Debian packages and npm modules), so they work on a fresh machine.
JOBS ?= 2
# Where `make install` puts duplex (cmake --install's --prefix).
PREFIX ?= /usr/local
# The program `make demo` runs, from build/release.
DEMO ?= apps/duplexd --host 127.0.0.1 --port 8080

.PHONY: all deps build build-asan test test-release test-asan demo bench install clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build/release -j $(JOBS)

build-asan: deps
	cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUPLEX_SANITIZE=ON
	cmake --build build/asan -j $(JOBS)

# Both trees, ctest in each, and a last line `tests: N passed, M failed`.
test:
	JOBS=$(JOBS) scripts/test

test-release:
	JOBS=$(JOBS) scripts/test release

test-asan:
	JOBS=$(JOBS) scripts/test asan

demo: build
	build/release/$(DEMO)

bench: build
	bench/run

# The libraries, headers, duplexd, duplex-echo, the page, and the CMake and pkg-config packages
# (docs/deploy.md).
install: build
	cmake --install build/release --prefix $(PREFIX)

clean:
	rm -rf build
