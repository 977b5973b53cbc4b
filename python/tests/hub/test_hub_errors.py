"""Every stable error code of docs/protocol.md ("Error codes", and the server API's
`method_not_allowed`) is a duplex.hub exception class of its own carrying that code, exported
by the package; and the classes are exactly those codes plus the client's own three."""

from __future__ import annotations

import re
from pathlib import Path

import duplex.hub as hub

PROTOCOL = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"
CLIENT_OWN = {"disconnected", "closed", "timeout"}  # not the hub's: errors.py says so


def documented_codes() -> set[str]:
    text = PROTOCOL.read_text()
    table = text.split("### Error codes", 1)[1].split("\n###", 1)[0]
    codes = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            codes.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    assert "method_not_allowed" in text  # the server API's own code (a GET on an endpoint)
    return codes | {"method_not_allowed"}


def test_every_documented_code_is_its_own_exception_class():
    codes = documented_codes()
    assert {"bad_request", "token_expired", "unavailable", "internal"} <= codes, codes
    for code in codes:
        error = hub.error_from(code, "why", status=400)
        assert type(error) is not hub.HubError, f"{code} has no class of its own"
        assert isinstance(error, hub.HubError)
        assert (error.code, error.message, error.status) == (code, "why", 400)
        assert type(error).__name__ in hub.__all__ and getattr(hub, type(error).__name__)


def test_the_classes_are_the_documented_codes_and_the_clients_own():
    classes = {getattr(hub, name) for name in hub.__all__
               if isinstance(getattr(hub, name), type)
               and issubclass(getattr(hub, name), hub.HubError)}
    codes = {cls.code for cls in classes if cls is not hub.HubError}
    assert codes == documented_codes() | CLIENT_OWN
    assert len(codes) == len(classes) - 1, "two classes share a code"
