"""The installed package: `cmake --install` into a temporary prefix, then examples/echo.cpp built
out of tree against it (find_package(duplex) and pkg-config), and each build echoing a message.

The build tree is the one ctest runs in (DUPLEX_BUILD_DIR), so nothing of duplex is compiled
again; only the one-file example is, twice, unoptimised (what is tested is that it builds and
links against the package, not how fast it runs).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from websockets import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from servers import REPO, ServerProcess  # noqa: E402

BUILD = Path(os.environ.get("DUPLEX_BUILD_DIR", REPO / "build" / "release"))
SANITIZE = os.environ.get("DUPLEX_SANITIZE") == "1"
# A sanitized tree's libraries need the sanitizer runtime in whatever links them.
EXTRA_FLAGS = ["-fsanitize=address,undefined"] if SANITIZE else []
EXAMPLE = REPO / "examples" / "echo.cpp"

CONSUMER_CMAKELISTS = """\
cmake_minimum_required(VERSION 3.25)
project(echo LANGUAGES CXX)
find_package(duplex 0.1 REQUIRED)
add_executable(echo echo.cpp)
target_link_libraries(echo PRIVATE duplex::duplex)
"""


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, argv))} exited {result.returncode}\n"
        f"stdout: {result.stdout[-4000:]}\nstderr: {result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("prefix")
    run(["cmake", "--install", BUILD, "--prefix", root])
    return root


def compiler_env() -> dict:
    env = dict(os.environ)
    # The shared compiler cache, when the machine has one, makes a rerun instant.
    if shutil.which("ccache") and "CMAKE_CXX_COMPILER_LAUNCHER" not in env:
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = "ccache"
    return env


def echoes(program: Path) -> None:
    """Starts the built example on a free port, has it echo one text and one binary message."""
    server = ServerProcess([program, "0"], name="echo")
    try:
        async def talk():
            async with connect(f"{server.url}/echo") as ws:
                assert (await ws.recv()).startswith("hello ")
                await ws.send("tomato")
                assert await ws.recv() == "tomato"
                await ws.send(b"\x00\xff")
                assert await ws.recv() == b"\x00\xff"
        asyncio.run(asyncio.wait_for(talk(), 20))
    finally:
        server.stop_and_check()


def test_installs_what_users_need(prefix):
    libdir = next(p for p in (prefix / "lib", prefix / "lib64") if p.is_dir())
    for program in ("duplexd", "duplex-echo"):
        assert os.access(prefix / "bin" / program, os.X_OK), program
    for header in ("server/app.h", "client/client.h", "hub/hub.h", "protocol/receiver.h"):
        assert (prefix / "include" / "duplex" / header).is_file(), header
    assert not list((prefix / "include").rglob("*_internal.h"))
    assert (libdir / "cmake" / "duplex" / "duplexConfig.cmake").is_file()
    assert (libdir / "pkgconfig" / "duplex.pc").is_file()
    assert (libdir / "libduplex_server.a").is_file()
    assert (prefix / "share" / "duplex" / "web" / "index.html").is_file()
    assert not list((prefix / "share" / "duplex" / "web").rglob("*.test.mjs"))


def test_installed_duplexd_serves_the_installed_page(prefix, tmp_path):
    """An installed duplexd finds <prefix>/share/duplex/web by itself (no --web)."""
    import urllib.request
    server = ServerProcess([prefix / "bin" / "duplexd", "--host", "127.0.0.1", "--port", "0",
                            "--data", tmp_path / "data"], name="duplexd")
    try:
        url = f"http://{server.host}:{server.port}/index.html"
        with urllib.request.urlopen(url, timeout=10) as response:
            page = response.read().decode()
        assert page == (prefix / "share" / "duplex" / "web" / "index.html").read_text()
    finally:
        server.stop_and_check()


def test_find_package(prefix, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(EXAMPLE, source / "echo.cpp")
    (source / "CMakeLists.txt").write_text(CONSUMER_CMAKELISTS)
    build = tmp_path / "build"
    run(["cmake", "-S", source, "-B", build, "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}",
         "-DCMAKE_BUILD_TYPE=", f"-DCMAKE_CXX_FLAGS={' '.join(EXTRA_FLAGS)}"],
        env=compiler_env())
    run(["cmake", "--build", build], env=compiler_env())
    echoes(build / "echo")


def test_pkg_config(prefix, tmp_path):
    pcdir = next(prefix.glob("lib*/pkgconfig"))
    env = dict(os.environ, PKG_CONFIG_PATH=str(pcdir))
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", run(["pkg-config", "--modversion", "duplex"], env=env).stdout)
    flags = run(["pkg-config", "--cflags", "--libs", "duplex"], env=env).stdout.split()
    program = tmp_path / "echo"
    compiler = ["ccache", "g++"] if shutil.which("ccache") else ["g++"]
    run([*compiler, "-std=c++20", *EXTRA_FLAGS, EXAMPLE, "-o", program, *flags], env=env)
    echoes(program)
