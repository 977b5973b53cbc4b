"""The PEP 517 build backend of the `duplex` package: CMake builds duplex._core
(python/CMakeLists.txt), and the wheel is zipped here. It needs no Python package at all
(not setuptools, not wheel), so `pip install --no-build-isolation .` works in any virtual
environment, and nothing is downloaded; cmake, ninja, a C++ compiler, python3-dev, pybind11-dev
and the core's libraries (scripts/install-deps) must be on the machine.

DUPLEX_CMAKE_BUILD_DIR names a configured build tree to reuse (`make python` passes
build/release, so nothing is compiled twice); without it build/python-wheel is configured.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = "duplex"
VERSION = "0.1.0"
SUMMARY = ("WebSocket servers and clients over duplex's C++ engine, with the asyncio API of "
           "python-websockets")


def _tag() -> str:
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{python}-{python}-{platform}"


def _build_extension() -> Path:
    build_dir = Path(os.environ.get("DUPLEX_CMAKE_BUILD_DIR", ROOT / "build" / "python-wheel"))
    if not build_dir.is_absolute():
        build_dir = ROOT / build_dir
    if not (build_dir / "CMakeCache.txt").exists():
        subprocess.check_call([
            "cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
            "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DDUPLEX_TESTS=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ], stdout=sys.stderr)
    subprocess.check_call(["cmake", "--build", str(build_dir), "-j", os.environ.get("JOBS", "2"),
                           "--target", "duplex_python"], stdout=sys.stderr)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    return build_dir / "python" / "stage" / NAME / f"_core{suffix}"


def _metadata() -> str:
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nSummary: {SUMMARY}\n"
            "Requires-Python: >=3.11\nLicense: MIT\n")


def _write_dist_info(directory: Path) -> str:
    dist_info = directory / f"{NAME}-{VERSION}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(_metadata())
    return dist_info.name


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_dist_info(Path(metadata_directory))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    extension = _build_extension()
    files: dict[str, bytes] = {}
    package = ROOT / "python" / NAME
    # Every module of the package, subpackages (duplex.hub) included.
    for source in sorted(package.rglob("*.py")):
        files[f"{NAME}/{source.relative_to(package).as_posix()}"] = source.read_bytes()
    files[f"{NAME}/{extension.name}"] = extension.read_bytes()
    dist_info = f"{NAME}-{VERSION}.dist-info"
    files[f"{dist_info}/METADATA"] = _metadata().encode()
    files[f"{dist_info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: duplex_build\n"
                                   f"Root-Is-Purelib: false\nTag: {_tag()}\n").encode()
    record = [_record_line(path, data) for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    name = f"{NAME}-{VERSION}-{_tag()}.whl"
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return name
