# The two commands a newcomer needs: `make test` and `make demo`. Each installs what is missing
# (scripts/install-deps: Debian packages and npm modules), so they work on a fresh machine.
JOBS ?= 2
# Where `make install` puts duplex (cmake --install's --prefix).
PREFIX ?= /usr/local
# The program `make demo` runs, from build/release.
DEMO ?= apps/duplexd --host 127.0.0.1 --port 8080

.PHONY: all deps deps-demo build build-asan test test-release test-asan demo bench install clean python

all: build

deps:
	scripts/install-deps

# Only what building and running duplexd needs: no browser, benchmark peers, plots or npm.
deps-demo:
	scripts/install-deps demo

build: deps
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUPLEX_TESTS=ON
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

# The Python package (python/, docs/python.md) into .venv/ at the repository root, which sees
# Debian's Python packages: afterwards `.venv/bin/python -c "import duplex"` works.
python: deps
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build/release -j $(JOBS) --target duplex_python
	test -x .venv/bin/python || /usr/bin/python3 -m venv --system-site-packages .venv
	DUPLEX_CMAKE_BUILD_DIR=build/release JOBS=$(JOBS) .venv/bin/python -m pip install \
		--no-build-isolation --no-index --no-deps --quiet .
	.venv/bin/python -c "import duplex; print('duplex', duplex.__version__, 'installed in .venv')"

# duplexd alone, in the same tree as `make build` (so either reuses the other's objects): the
# tests are switched off for the configure, which then needs no GoogleTest, and only duplexd
# and what it links are built.
demo: deps-demo
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUPLEX_TESTS=OFF
	cmake --build build/release -j $(JOBS) --target duplexd
	build/release/$(DEMO)

bench: build
	bench/run

# The libraries, headers, duplexd, duplex-echo, the page, and the CMake and pkg-config packages
# (docs/deploy.md).
# Like `make demo`, it needs and builds no tests.
install: deps-demo
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUPLEX_TESTS=OFF
	cmake --build build/release -j $(JOBS)
	cmake --install build/release --prefix $(PREFIX)

clean:
	rm -rf build
