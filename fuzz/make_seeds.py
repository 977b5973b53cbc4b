#!/usr/bin/env python3
"""Writes the seed corpora, fuzz/corpus/<target>/<name>: small valid and invalid samples that
give libFuzzer a head start (real handshakes of browsers and libraries, frames of every kind,
compressed messages, deflate offers and answers). The seeds are committed; rerun this after
changing it (it rewrites only the files it names: seeds added by hand, or minimised crashes
kept as seeds, stay). Each target's input layout is described at the top of fuzz/<target>.cpp.

    python3 fuzz/make_seeds.py
"""
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 1.3
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def head(*lines):
    return "\r\n".join(lines) + "\r\n\r\n"


# ---- upgrade_request -----------------------------------------------------------------------

def upgrade_requests():
    t = "upgrade_request"
    write(t, "chrome", head(
        "GET /ws HTTP/1.1",
        "Host: 127.0.0.1:8080",
        "Connection: Upgrade",
        "Pragma: no-cache",
        "Cache-Control: no-cache",
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "Upgrade: websocket",
        "Origin: http://127.0.0.1:8080",
        "Sec-WebSocket-Version: 13",
        "Accept-Encoding: gzip, deflate, br",
        "Accept-Language: en-US,en;q=0.9",
        "Sec-WebSocket-Key: " + KEY,
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"))
    write(t, "firefox", head(
        "GET /ws?since=42 HTTP/1.1",
        "Host: localhost:8080",
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Accept: */*",
        "Accept-Language: en-US,en;q=0.5",
        "Accept-Encoding: gzip, deflate, br",
        "Sec-WebSocket-Version: 13",
        "Origin: http://localhost:8080",
        "Sec-WebSocket-Extensions: permessage-deflate",
        "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==",
        "Connection: keep-alive, Upgrade",
        "Sec-Fetch-Dest: empty",
        "Sec-Fetch-Mode: websocket",
        "Sec-Fetch-Site: same-origin",
        "Pragma: no-cache",
        "Cache-Control: no-cache",
        "Upgrade: websocket"))
    write(t, "safari", head(
        "GET /chat HTTP/1.1",
        "Host: example.com",
        "Origin: https://example.com",
        "Upgrade: websocket",
        "Accept-Encoding: gzip, deflate",
        "Sec-WebSocket-Extensions: permessage-deflate",
        "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.2 Safari/605.1.15"))
    write(t, "python_websockets", head(
        "GET /echo HTTP/1.1",
        "Host: 127.0.0.1:9001",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: 9n3GX1FQZ3yq0Ndw3dl0Cg==",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        "User-Agent: Python/3.11 websockets/10.4"))
    write(t, "node_ws", head(
        "GET /echo HTTP/1.1",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: kQZ3pXm4Q3vWQ3S1m4mS9w==",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        "Host: 127.0.0.1:9001"))
    write(t, "duplex_client", head(
        "GET /talk?room=1 HTTP/1.1",
        "Host: 127.0.0.1:9001",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + KEY,
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: chat, superchat",
        "Origin: http://example.com"))
    write(t, "protocols_two_lines", head(
        "GET / HTTP/1.1", "Host: h", "Upgrade: WebSocket", "Connection: upgrade",
        "Sec-WebSocket-Key: " + KEY, "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: chat", "sec-websocket-protocol: superchat , v2.json"))
    write(t, "extensions_many", head(
        "GET / HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: " + KEY, "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Extensions: x-webkit-deflate-frame",
        "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
        "server_max_window_bits=10, permessage-deflate; client_max_window_bits=\"9\""))
    write(t, "pipelined_frame", head(
        "GET /echo HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: " + KEY, "Sec-WebSocket-Version: 13")
        + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
    write(t, "plain_get", head("GET /index.html HTTP/1.1", "Host: h", "Connection: keep-alive"))
    write(t, "plain_get_http10", head("GET / HTTP/1.0"))

    def bad(name, *lines):
        write(t, "bad_" + name, head(*lines))

    ok = ["Host: h", "Upgrade: websocket", "Connection: Upgrade",
          "Sec-WebSocket-Key: " + KEY, "Sec-WebSocket-Version: 13"]
    bad("post", "POST /ws HTTP/1.1", *ok)
    bad("http10", "GET /ws HTTP/1.0", *ok)
    bad("http2", "GET /ws HTTP/2.0", *ok)
    bad("no_host", "GET /ws HTTP/1.1", *ok[1:])
    bad("two_hosts", "GET /ws HTTP/1.1", "Host: a", *ok)
    bad("no_upgrade", "GET /ws HTTP/1.1", ok[0], *ok[2:])
    bad("upgrade_h2c", "GET /ws HTTP/1.1", ok[0], "Upgrade: h2c", *ok[2:])
    bad("connection_close", "GET /ws HTTP/1.1", *ok[:2], "Connection: close", *ok[3:])
    bad("no_key", "GET /ws HTTP/1.1", *ok[:3], ok[4])
    bad("short_key", "GET /ws HTTP/1.1", *ok[:3], "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4P", ok[4])
    bad("two_keys", "GET /ws HTTP/1.1", *ok[:4], "Sec-WebSocket-Key: " + KEY, ok[4])
    bad("version_8", "GET /ws HTTP/1.1", *ok[:4], "Sec-WebSocket-Version: 8")
    bad("no_version", "GET /ws HTTP/1.1", *ok[:4])
    bad("two_versions", "GET /ws HTTP/1.1", *ok, "Sec-WebSocket-Version: 13")
    bad("obs_fold", "GET /ws HTTP/1.1", *ok, "X-Long: a", " b")
    bad("space_before_colon", "GET /ws HTTP/1.1", "Host : h", *ok[1:])
    bad("absolute_target", "GET http://h/ws HTTP/1.1", *ok)
    bad("nul_in_value", "GET /ws HTTP/1.1", *ok, "X-A: a\x00b")
    bad("bad_protocol_token", "GET /ws HTTP/1.1", *ok, "Sec-WebSocket-Protocol: a b")
    bad("request_line_spaces", "GET  /ws HTTP/1.1", *ok)
    write(t, "bad_bare_lf", "GET /ws HTTP/1.1\nHost: h\r\n\r\n")
    write(t, "incomplete", "GET /ws HTTP/1.1\r\nHost: h\r\n")
    write(t, "empty_line_only", "\r\n\r\n")


# ---- upgrade_response ----------------------------------------------------------------------

def upgrade_responses():
    t = "upgrade_response"
    base = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Accept: " + ACCEPT]
    write(t, "rfc6455", head(*base))
    write(t, "protocol_chat", head(*base, "Sec-WebSocket-Protocol: chat"))
    write(t, "duplex_server", head(
        *base, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
        "client_no_context_takeover"))
    write(t, "node_ws", head(
        *base, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15"))
    write(t, "python_websockets", head(
        "HTTP/1.1 101 Switching Protocols", "Date: Tue, 24 Nov 2026 10:00:00 GMT",
        "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: " + ACCEPT,
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; "
        "client_max_window_bits=12", "Server: Python/3.11 websockets/10.4"))
    write(t, "with_frame_after", head(*base) + "\x81\x05Hello")
    write(t, "lowercase", head("HTTP/1.1 101 ok", "upgrade: WebSocket",
                               "connection: keep-alive, upgrade",
                               "sec-websocket-accept: " + ACCEPT))
    write(t, "no_reason", "HTTP/1.1 101\r\n" + "\r\n".join(base[1:]) + "\r\n\r\n")

    def bad(name, *lines):
        write(t, "bad_" + name, head(*lines))

    bad("200", "HTTP/1.1 200 OK", "Content-Length: 0")
    bad("426", "HTTP/1.1 426 Upgrade Required", "Sec-WebSocket-Version: 13", "Upgrade: websocket")
    bad("wrong_accept", *base[:3], "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    bad("two_accepts", *base, "Sec-WebSocket-Accept: " + ACCEPT)
    bad("no_upgrade", base[0], *base[2:])
    bad("no_connection", *base[:2], base[3])
    bad("protocol_not_offered", *base, "Sec-WebSocket-Protocol: mqtt")
    bad("two_protocols", *base, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat")
    bad("http10", "HTTP/1.0 101 Switching Protocols", *base[1:])
    bad("status_line", "HTTP/1.1 1O1 Switching", *base[1:])
    bad("bare_client_bits", *base, "Sec-WebSocket-Extensions: permessage-deflate; "
        "client_max_window_bits")
    bad("unknown_extension", *base, "Sec-WebSocket-Extensions: x-webkit-deflate-frame")
    bad("two_deflates", *base, "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate")
    bad("dropped_takeover", *base, "Sec-WebSocket-Extensions: permessage-deflate")
    bad("obs_fold", *base, "X: a", "\tb")


# ---- frame_stream --------------------------------------------------------------------------

MASK = b"\x37\xfa\x21\x3d"


def frame(opcode, payload=b"", fin=True, rsv1=False, masked=True, rsv=0, length=None):
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogateescape")
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | rsv | opcode
    n = len(payload) if length is None else length
    mbit = 0x80 if masked else 0
    if n < 126:
        h = bytes([b0, mbit | n])
    elif n <= 0xFFFF:
        h = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if not masked:
        return h + payload
    return h + MASK + bytes(c ^ MASK[i % 4] for i, c in enumerate(payload))


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


def deflate_raw(data, wbits=15, level=6, final=False):
    c = zlib.compressobj(level, zlib.DEFLATED, -max(wbits, 9))
    out = c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)
    if not final and out.endswith(b"\x00\x00\xff\xff"):
        out = out[:-4]
    return out


def frame_streams():
    t = "frame_stream"

    def seed(name, stream, client=False, compression=False, small_frames=False, sizes=b""):
        flags = (1 if client else 0) | (2 if compression else 0) | (4 if small_frames else 0)
        flags |= (len(sizes) & 7) << 4
        write(t, name, bytes([flags]) + sizes + stream)

    hello = "Hello"
    # RFC 6455 5.7 examples.
    seed("rfc_text_masked", bytes.fromhex("818537fa213d7f9f4d5158"))
    seed("rfc_text_unmasked", bytes.fromhex("810548656c6c6f"), client=True)
    seed("rfc_fragmented", bytes.fromhex("010348656c80026c6f"), client=True)
    seed("rfc_ping_pong", bytes.fromhex("890548656c6c6f") + bytes.fromhex("8a0548656c6c6f"),
         client=True)
    seed("rfc_binary_256", frame(0x2, bytes(range(256)) * 1, masked=False), client=True)
    for name, m, c in (("masked", True, False), ("unmasked", False, True)):
        seed("text_" + name, frame(0x1, hello, masked=m), client=c)
        seed("binary_" + name, frame(0x2, b"\x00\xff" * 100, masked=m), client=c)
        seed("ping_" + name, frame(0x9, "are you there", masked=m), client=c)
        seed("pong_" + name, frame(0xA, b"", masked=m), client=c)
        seed("close_1000_" + name, frame(0x8, close_payload(1000, b"bye"), masked=m), client=c)
        seed("close_empty_" + name, frame(0x8, b"", masked=m), client=c)
        seed("fragments_ping_between_" + name,
             frame(0x1, "Hel", fin=False, masked=m) + frame(0x9, "p", masked=m)
             + frame(0x0, "lo ", fin=False, masked=m) + frame(0x0, "world", masked=m), client=c)
    utf8 = "κόσμε €𝄞".encode()
    seed("utf8_split_across_fragments",
         frame(0x1, utf8[:3], fin=False) + frame(0x0, utf8[3:9], fin=False) + frame(0x0, utf8[9:]))
    seed("utf8_one_byte_chunks", frame(0x1, utf8), sizes=b"\x00")
    seed("utf8_invalid", frame(0x1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
    seed("utf8_truncated", frame(0x1, b"ab\xe2\x82"))
    seed("utf8_truncated_fragments", frame(0x1, b"ab\xe2", fin=False) + frame(0x0, b"\x82"))
    seed("binary_16bit_length", frame(0x2, bytes(1000)), sizes=b"\x06\x01\xff")
    seed("binary_4096", frame(0x2, bytes(4096)), sizes=b"\x7f\xff")
    seed("binary_4097_too_big", frame(0x2, bytes(4097)))
    seed("frame_over_1000", frame(0x2, bytes(1001)), small_frames=True)
    seed("fragments_over_4096",
         frame(0x2, bytes(3000), fin=False) + frame(0x0, bytes(1200)), sizes=b"\x80\x40")
    seed("length_64bit_huge", frame(0x2, b"", length=1 << 40)[:14])
    seed("length_64bit_top_bit", bytes([0x82, 0xFF]) + b"\x80" + bytes(7) + MASK)
    seed("length_not_minimal", bytes([0x82, 0xFE, 0x00, 0x05]) + MASK + bytes(5))
    seed("reserved_opcode", frame(0x3, "x"))
    seed("rsv2", frame(0x1, "x", rsv=0x20))
    seed("unmasked_to_server", frame(0x1, hello, masked=False))
    seed("masked_to_client", frame(0x1, hello), client=True)
    seed("ping_fragmented", frame(0x9, "x", fin=False))
    seed("ping_126", frame(0x9, bytes(126)))
    seed("continuation_first", frame(0x0, "x"))
    seed("text_while_open", frame(0x1, "a", fin=False) + frame(0x1, "b"))
    seed("close_one_byte", frame(0x8, b"\x03"))
    seed("close_1005", frame(0x8, close_payload(1005)))
    seed("close_bad_reason", frame(0x8, close_payload(1001, b"\xff")))
    seed("close_then_more", frame(0x8, close_payload(4000, b"app")) + frame(0x1, "after"))
    seed("many_small", b"".join(frame(0x1, str(i)) for i in range(40)), sizes=b"\x02\x00\x0c")
    z = deflate_raw(hello.encode())
    seed("compressed_rfc7692", bytes.fromhex("c107f248cdc9c90700"), client=True, compression=True)
    seed("compressed_masked", frame(0x1, z, rsv1=True), compression=True)
    seed("compressed_fragmented",
         frame(0x1, z[:3], rsv1=True, fin=False) + frame(0x0, z[3:]), compression=True,
         sizes=b"\x03")
    seed("compressed_binary", frame(0x2, deflate_raw(bytes(3000)), rsv1=True, masked=False),
         client=True, compression=True)
    seed("rsv1_not_negotiated", frame(0x1, z, rsv1=True))
    seed("rsv1_on_continuation", frame(0x1, z, fin=False) + frame(0x0, z, rsv1=True),
         compression=True)
    seed("rsv1_on_ping", frame(0x9, "x", rsv1=True), compression=True)
    seed("partial_header_chunks", frame(0x2, bytes(300)) + frame(0x9, "p"), sizes=b"\x00\x01\x02")


# ---- deflate_negotiation -------------------------------------------------------------------

def deflate_negotiations():
    t = "deflate_negotiation"

    def seed(name, lines, server=True, server_nct=False, client_nct=False, bits=0x77):
        flags = (0 if server else 1) | (2 if server_nct else 0) | (4 if client_nct else 0)
        write(t, name, bytes([flags, bits]) + "\n".join(lines).encode())

    offers = {
        "chrome": "permessage-deflate; client_max_window_bits",
        "firefox": "permessage-deflate",
        "python_websockets": "permessage-deflate; client_max_window_bits",
        "node_ws": "permessage-deflate; client_max_window_bits",
        "duplex_client": "permessage-deflate; server_no_context_takeover; "
                         "client_no_context_takeover; client_max_window_bits",
        "autobahn_fallbacks": "permessage-deflate; client_no_context_takeover; "
                              "client_max_window_bits=8; server_max_window_bits=9, "
                              "permessage-deflate; client_max_window_bits, permessage-deflate",
        "quoted": 'permessage-deflate; client_max_window_bits="10"; server_max_window_bits="11"',
        "webkit_old": "x-webkit-deflate-frame, permessage-deflate",
        "mixed_case": "Permessage-Deflate; Server_No_Context_Takeover",
    }
    for name, offer in offers.items():
        seed("offer_" + name, [offer])
    seed("offer_defaults_duplex", [offers["chrome"]], server_nct=True, client_nct=True)
    seed("offer_small_windows", [offers["autobahn_fallbacks"]], bits=0x10)
    seed("offer_two_lines", ["x-foo; a=1", "permessage-deflate; server_max_window_bits=12"])
    for name, offer in {
        "duplicate_param": "permessage-deflate; server_no_context_takeover; "
                           "server_no_context_takeover",
        "unknown_param": "permessage-deflate; foo=bar",
        "bits_16": "permessage-deflate; server_max_window_bits=16",
        "bits_leading_zero": "permessage-deflate; client_max_window_bits=08",
        "takeover_with_value": "permessage-deflate; client_no_context_takeover=1",
        "bare_server_bits": "permessage-deflate; server_max_window_bits",
        "unterminated_quote": 'permessage-deflate; client_max_window_bits="10',
        "empty_elements": " , ,permessage-deflate ,",
        "trailing_semicolon": "permessage-deflate;",
    }.items():
        seed("offer_bad_" + name, [offer])

    answers = {
        "plain": "permessage-deflate",
        "duplex_server": "permessage-deflate; server_no_context_takeover; "
                         "client_no_context_takeover",
        "windows": "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
        "node_ws": "permessage-deflate; client_max_window_bits=15",
        "declined": "",
    }
    for name, answer in answers.items():
        seed("answer_" + name, [answer], server=False)
        seed("answer_nct_" + name, [answer], server=False, server_nct=True, client_nct=True,
             bits=0x52)
    for name, answer in {
        "bare_client_bits": "permessage-deflate; client_max_window_bits",
        "two": "permessage-deflate, permessage-deflate",
        "not_offered": "x-webkit-deflate-frame",
        "bits_7": "permessage-deflate; server_max_window_bits=7",
    }.items():
        seed("answer_bad_" + name, [answer], server=False)
    seed("answer_bits_above_offer", ["permessage-deflate; server_max_window_bits=12"],
         server=False, bits=0x02)


# ---- inflate -------------------------------------------------------------------------------

def inflates():
    t = "inflate"
    max_sizes = [0, 1, 100, 1024, 4096, 16384, 65536, 1 << 20]

    def seed(name, data, wbits=15, nct=False, roundtrip=False, level=None, max_size=4096,
             sizes=b""):
        flags = (wbits - 8) | (8 if nct else 0) | (16 if roundtrip else 0) | ((len(sizes) & 7) << 5)
        second = level if level is not None else max_sizes.index(max_size)
        write(t, name, bytes([flags, second]) + sizes + data)

    # RFC 7692 7.2.3 examples.
    seed("rfc_hello", bytes.fromhex("f248cdc9c90700"))
    seed("rfc_hello_bfinal", bytes.fromhex("f348cdc9c90700"))
    seed("rfc_hello_stored", bytes.fromhex("0005 00faff 48656c6c6f 00".replace(" ", "")))
    seed("rfc_hello_twice_takeover", bytes.fromhex("f248cdc9c90700" "f200110000"),
         sizes=b"\x86\x84")
    seed("rfc_empty", b"\x00")
    text = b'{"type":"throw","item":"tomato","x":0.5,"y":0.25}' * 20
    for bits in (8, 9, 12, 15):
        seed(f"json_window_{bits}", deflate_raw(text, bits), wbits=bits, max_size=1024 * 1024)
    seed("json_pieces", deflate_raw(text), sizes=b"\x10\x05\xff", max_size=65536)
    seed("json_too_big_for_1024", deflate_raw(text), max_size=1024)
    seed("json_limit_0", deflate_raw(b"x"), max_size=0)
    seed("bomb_1mib_zeros", deflate_raw(bytes(1 << 20), level=9), max_size=4096)
    seed("bomb_pieces", deflate_raw(bytes(1 << 20), level=9), max_size=65536, sizes=b"\x7f")
    seed("window_15_data_window_9", deflate_raw(bytes(range(256)) * 8 + text),
         wbits=9, max_size=65536)
    seed("bfinal_then_more", deflate_raw(b"first", final=True) + b"\x00", sizes=b"\x83",
         max_size=100)
    seed("corrupt_block_type", b"\xff\xff\xff\xff")
    seed("cut_inside_block", deflate_raw(text)[:40], max_size=65536)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    m1 = c.compress(b"hello hello hello") + c.flush(zlib.Z_SYNC_FLUSH)
    m2 = c.compress(b"hello again, hello") + c.flush(zlib.Z_SYNC_FLUSH)
    seed("takeover_two_messages", m1[:-4] + m2[:-4], sizes=bytes([0x80 | (len(m1) - 5), 0x7f]))
    seed("takeover_two_messages_nct", m1[:-4] + m2[:-4], nct=True,
         sizes=bytes([0x80 | (len(m1) - 5), 0x7f]))
    seed("roundtrip_json", text, roundtrip=True, level=0x36)
    seed("roundtrip_messages_takeover", b"tomato candy egg cat " * 30, roundtrip=True,
         level=0x81, sizes=b"\x7f\x20\x05")
    seed("roundtrip_messages_nct_window_8", b"tomato candy egg cat " * 30, wbits=8, nct=True,
         roundtrip=True, level=0x09, sizes=b"\x7f\x00")
    seed("roundtrip_empty", b"", roundtrip=True, level=0x16)
    seed("roundtrip_binary", bytes(range(256)) * 4, wbits=10, roundtrip=True, level=0x01)


# ---- connection ------------------------------------------------------------------------------

def connections():
    t = "connection"

    def seed(name, stream, client=False, compression=False, takeover=False, close_first=False,
             sizes=b""):
        flags = (1 if client else 0) | (2 if compression else 0) | (4 if takeover else 0)
        flags |= (8 if close_first else 0) | ((len(sizes) & 7) << 4)
        write(t, name, bytes([flags]) + sizes + stream)

    for side, m, c in (("server", True, False), ("client", False, True)):
        seed("peer_closes_" + side, frame(0x1, "hi", masked=m)
             + frame(0x8, close_payload(1000, b"bye"), masked=m), client=c)
        seed("we_close_first_" + side, frame(0x1, "late", masked=m) + frame(0x9, "p", masked=m)
             + frame(0x8, close_payload(1000), masked=m), client=c, close_first=True,
             sizes=b"\x05")
        seed("ping_between_fragments_" + side,
             frame(0x1, "Hel", fin=False, masked=m) + frame(0x9, "p", masked=m)
             + frame(0x0, "lo", masked=m), client=c, sizes=b"\x00")
        seed("compressed_" + side, frame(0x1, deflate_raw(b"hello hello hello"), rsv1=True,
             masked=m), client=c, compression=True)
        seed("close_during_compression_" + side,
             frame(0x1, deflate_raw(b"hello hello hello")[:5], fin=False, rsv1=True, masked=m)
             + frame(0x8, close_payload(1001), masked=m), client=c, compression=True)
        seed("bad_utf8_mid_frame_" + side, frame(0x1, b"ok \xff and more text", masked=m),
             client=c, sizes=b"\x08")
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    m1 = c.compress(b"hello hello hello") + c.flush(zlib.Z_SYNC_FLUSH)
    m2 = c.compress(b"hello again, hello") + c.flush(zlib.Z_SYNC_FLUSH)
    seed("takeover_two_messages", frame(0x1, m1[:-4], rsv1=True) + frame(0x1, m2[:-4], rsv1=True),
         compression=True, takeover=True)
    seed("inflates_to_bad_utf8", frame(0x1, deflate_raw(b"\xff\xfe"), rsv1=True),
         compression=True)
    seed("masked_from_server", frame(0x1, "x", masked=True), client=True)


def main():
    connections()
    upgrade_requests()
    upgrade_responses()
    frame_streams()
    deflate_negotiations()
    inflates()


if __name__ == "__main__":
    main()
