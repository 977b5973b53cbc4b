# The two commands a newcomer needs: `make test` and `make demo`. Each installs what is missing
# (scripts/install-deps: Debian packages and npm modules), so they work on a fresh machine.
JOBS ?= 2
# The program `make demo` runs, from build/release.
DEMO ?= apps/duplexd --host 127.0.0.1 --port 8080

.PHONY: all deps build build-asan test test-release test-asan demo bench clean python

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

# The Python package (python/, docs/python.md) into .venv/ at the repository root, which sees
# Debian's Python packages: afterwards `.venv/bin/python -c "import duplex"` works.
python: deps
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build/release -j $(JOBS) --target duplex_python
	test -x .venv/bin/python || /usr/bin/python3 -m venv --system-site-packages .venv
	DUPLEX_CMAKE_BUILD_DIR=build/release JOBS=$(JOBS) .venv/bin/python -m pip install \
		--no-build-isolation --no-index --no-deps --quiet .
	.venv/bin/python -c "import duplex; print('duplex', duplex.__version__, 'installed in .venv')"

demo: build
	build/release/$(DEMO)

bench: build
	bench/run

clean:
	rm -rf build
