"""Builds duplex._core with CMake (python/CMakeLists.txt) for `pip install --no-build-isolation .`.

DUPLEX_CMAKE_BUILD_DIR names a configured build tree to reuse (`make python` passes
build/release, so nothing is compiled twice); without it a tree under build/python-wheel is
configured. Only what the extension needs is built.
"""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("DUPLEX_CMAKE_BUILD_DIR", ROOT / "build" / "python-wheel"))
        if not build_dir.is_absolute():
            build_dir = ROOT / build_dir
        if not (build_dir / "CMakeCache.txt").exists():
            subprocess.check_call([
                "cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DDUPLEX_TESTS=OFF",
                f"-DPython3_EXECUTABLE={sys.executable}",
            ])
        jobs = os.environ.get("JOBS", "2")
        subprocess.check_call(["cmake", "--build", str(build_dir), "-j", jobs,
                               "--target", "duplex_python"])
        built = build_dir / "python" / "stage" / "duplex" / Path(self.get_ext_filename(ext.name)).name
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(built), str(target))


setup(ext_modules=[Extension("duplex._core", sources=[])], cmdclass={"build_ext": CMakeBuild})
