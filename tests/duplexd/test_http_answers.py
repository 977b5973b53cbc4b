"""duplexd's HTTP answers mean what they say: a GET on the hub's WebSocket path without the
upgrade headers is 426 naming `Upgrade: websocket` (curl users learn the endpoint exists), a
known path with the wrong method is 405 with `Allow`, an unknown path 404, every /api/* error
is the hub's JSON error shape with the matching status, and JSON parse errors say where."""

from __future__ import annotations

import pytest

import duplexd_service as d


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = d.start(tmp_path_factory.mktemp("data"))
    yield process
    process.stop_and_check()


def test_get_on_the_websocket_path_without_upgrade_is_426(server):
    reply = d.request(server, "GET", "/connection")
    assert reply.status == 426
    assert reply.headers["upgrade"] == "websocket"


def test_a_known_path_with_the_wrong_method_is_405_with_allow(server):
    for method, path, allow in [("POST", "/metrics", "GET, HEAD"),
                                ("DELETE", "/connection", "GET, HEAD"),
                                ("PUT", "/healthz", "GET, HEAD")]:
        reply = d.request(server, method, path)
        assert (reply.status, reply.headers.get("allow")) == (405, allow), (method, path)


def test_an_unknown_path_is_404(server):
    assert d.request(server, "GET", "/no/such/page.html").status == 404


def test_api_errors_are_json_with_the_matching_status(server):
    cases = [
        (d.request(server, "GET", "/api/publish"), 405, "method_not_allowed"),
        (d.api(server, "/api/nothing", {}), 404, "not_found"),
        (d.request(server, "GET", "/api/nothing"), 404, "not_found"),
        (d.api(server, "/api/publish", {"channel": "talk:x", "data": {}}, key="wrong"), 403,
         "forbidden"),
        (d.request(server, "POST", "/api/publish", "{}"), 401, "unauthorized"),
        (d.api(server, "/api/publish", {"channel": "nowhere:x", "data": {}}), 404, "not_found"),
        (d.api(server, "/api/publish", {"channel": "talk:x"}), 400, "bad_request"),
    ]
    for reply, status, code in cases:
        assert reply.status == status, reply.body
        assert reply.headers["content-type"] == "application/json"
        error = reply.json()["error"]
        assert error["code"] == code and error["message"], reply.body
    assert d.request(server, "GET", "/api/publish").headers["allow"] == "POST"
    assert d.request(server, "HEAD", "/api/publish").headers["allow"] == "POST"


def raw_exchange(port: int, request: bytes, then: bytes = b"") -> d.Reply:
    """Sends bytes http.client would not (a bad framing), reads the answer to the end."""
    import http.client
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request + then)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return d.Reply(response)


@pytest.mark.parametrize("request_bytes, status, code, message", [
    (b"POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413,
     "too_large", "request body larger than 1048576 bytes"),
    (b"POST /api/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     501, "not_implemented", "Transfer-Encoding is not supported; send Content-Length"),
    (b"POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400,
     "bad_request", "bad Content-Length header"),
    (b"POST /api/history HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400, "bad_request",
     "header line without a colon"),
    (b"POST /api/publish HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431,
     "request_header_fields_too_large", "request head larger than 8 KiB"),
    (b"PUT /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405,
     "method_not_allowed", "method PUT not allowed on /api/publish (it takes POST)"),
    # A request line over 8 KiB (RFC 9112 3: 414): the target's beginning names the path.
    (b"GET /api/publish?pad=" + b"p" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
     "uri_too_long", "request target too long: the request line is over 8 KiB"),
], ids=["413", "501", "400-length", "400-header", "431", "405", "414"])
def test_api_refusals_before_routing_are_json_too(server, request_bytes, status, code, message):
    reply = raw_exchange(server.port, request_bytes)
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"error": {"code": code, "message": message}}
    if status == 405:
        assert reply.headers["allow"] == "POST"
    # Outside /api/*, the same refusal stays plain text.
    elsewhere = raw_exchange(server.port, request_bytes.replace(b"/api/publish", b"/metrics")
                             .replace(b"/api/history", b"/metrics"))
    assert elsewhere.status == status
    assert elsewhere.headers["content-type"].startswith("text/plain")


def test_a_target_too_long_to_end_in_8_kib_under_api_is_json_too(server):
    # No end of the line in sight: what was read of the target starts with /api/.
    reply = raw_exchange(server.port, b"POST /api/" + b"a" * 9000)
    assert reply.status == 414
    assert reply.json() == {"error": {"code": "uri_too_long", "message":
                                      "request target too long: the request line is over 8 KiB"}}
    elsewhere = raw_exchange(server.port, b"POST /files/" + b"a" * 9000)
    assert elsewhere.status == 414
    assert elsewhere.headers["content-type"].startswith("text/plain")


def test_api_refusal_for_too_many_connections_is_json_with_retry_after(tmp_path):
    server = d.start(tmp_path / "data", "--max-connections", "1")
    try:
        import socket

        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as holder:
            holder.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert holder.recv(4096).startswith(b"HTTP/1.1 200")  # counted, and kept open
            reply = raw_exchange(server.port,
                                 b"POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 0"
                                 b"\r\n\r\n")
        assert reply.status == 503
        assert reply.headers["retry-after"] == "5"
        assert reply.json() == {"error": {"code": "unavailable",
                                          "message": "too many connections"}}
    finally:
        server.stop_and_check()


def test_json_parse_errors_say_where(server):
    reply = d.api(server, "/api/publish", '{"channel": "talk:x",\n "data": {"a": 1,}}')
    assert reply.status == 400
    assert reply.json()["error"]["message"] == "not JSON at line 2, column 18 (byte 39)"
    reply = d.api(server, "/api/disconnect", '{"user": ')
    assert reply.status == 400
    assert "at line 1, column 10" in reply.json()["error"]["message"]


def test_a_command_that_is_not_json_is_closed_with_the_place_in_the_reason(server):
    import asyncio

    import websockets

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/connection") as ws:
            await ws.send('{"id": 1, "connect": {]}')
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code, ws.close_reason

    code, reason = asyncio.run(go())
    assert (code, reason) == (1007, "not JSON at line 1, column 23 (byte 22)")
