#!/usr/bin/python3
"""A throwaway PKI for the TLS tests, made with the openssl CLI in a directory of the caller's.

    ca.pem                 the test CA the clients are told to trust
    server.pem/.key        localhost + 127.0.0.1, serial 0x1001, signed by ca
    renewed.pem/.key       the same names, a new key, serial 0x1002 (for reload tests)
    dns-only.pem/.key      localhost only: connecting to 127.0.0.1 must fail the IP check
    rogue.pem/.key         localhost + 127.0.0.1, signed by a CA nobody trusts

EC P-256 keys: quick to make. Run as a script (`pki.py DIR`) for the C++ tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVER_SERIAL = 0x1001
RENEWED_SERIAL = 0x1002
_NAMES = "DNS:localhost,IP:127.0.0.1"


def _openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


def _ca(dir: Path, name: str, subject: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", subject,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=dir)


def _leaf(dir: Path, name: str, ca: str, serial: int, names: str) -> None:
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost", cwd=dir)
    (dir / f"{name}.ext").write_text(f"subjectAltName={names}\nbasicConstraints=CA:FALSE\n"
                                     "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-set_serial", str(serial), "-days", "2", "-extfile", f"{name}.ext",
             "-out", f"{name}.pem", cwd=dir)


def make(dir: Path) -> Path:
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    _ca(dir, "ca", "/CN=duplex test CA")
    _ca(dir, "rogue-ca", "/CN=nobody trusts this CA")
    _leaf(dir, "server", "ca", SERVER_SERIAL, _NAMES)
    _leaf(dir, "renewed", "ca", RENEWED_SERIAL, _NAMES)
    _leaf(dir, "dns-only", "ca", 0x1003, "DNS:localhost")
    _leaf(dir, "rogue", "rogue-ca", 0x1004, _NAMES)
    return dir


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: pki.py DIR")
    make(Path(sys.argv[1]))
