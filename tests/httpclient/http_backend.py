"""A small HTTP/1.1 server for tests/httpclient: keep-alive, one thread per connection so a
slow answer does not hold up the others. Prints its port, then serves until killed.

POST /echo        -> 200 {"body": <request body>, "headers": {...}, "peer_port": N}
POST /slow?ms=N   -> waits N ms, then 200 {"slow": true}
POST /status/N    -> status N, {"status": N}
POST /chunked     -> 200, the body in chunks (Transfer-Encoding: chunked)
POST /proxy/connect -> 200, a connect proxy's answer: the user is the request's Cookie header
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left: what the timeout test wants

    def do_POST(self):
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if url.path == "/echo":
            self.answer(200, {"body": body, "headers": dict(self.headers.items()),
                              "peer_port": self.client_address[1]})
        elif url.path == "/slow":
            time.sleep(int(parse_qs(url.query)["ms"][0]) / 1000)
            self.answer(200, {"slow": True})
        elif url.path.startswith("/status/"):
            status = int(url.path.rsplit("/", 1)[1])
            self.answer(status, {"status": status})
        elif url.path == "/proxy/connect":
            self.answer(200, {"result": {"user": self.headers.get("Cookie", "")}})
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"chunked":', b' "yes"}'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.answer(404, {"error": "no such path"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
