"""A back end for the proxy tests (docs/protocol.md, "Proxies"): aiohttp on its own thread and
event loop, so the tests' clients and duplexd's requests to it run side by side. It records
every request it gets, and answers as its `rules` say (tests change them)."""

from __future__ import annotations

import asyncio
import socket
import threading

from aiohttp import web


class Backend:
    def __init__(self):
        self.requests = []  # (path, json body, headers)
        self.delay = {}     # path -> seconds to wait before answering
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path):
        return [body for p, body, _ in self.requests if p == path]

    def _run(self):
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        for path in ("/connect", "/subscribe", "/publish", "/rpc"):
            app.router.add_post(path, self._handle)
        app.router.add_post("/broken", self._broken)
        self.runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self.runner, sock)
        self.loop.run_until_complete(site.start())
        self._ready.set()
        self.loop.run_forever()

    def stop(self):
        async def cleanup():
            # Answers still sleeping (a test's slow back end) are cancelled, not left pending.
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            await self.runner.cleanup()
        asyncio.run_coroutine_threadsafe(cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    async def _broken(self, request):
        return web.Response(status=500, text="oops")

    async def _handle(self, request):
        body = await request.json()
        self.requests.append((request.path, body, dict(request.headers)))
        await asyncio.sleep(self.delay.get(request.path, 0))
        return web.json_response(getattr(self, "_" + request.path[1:])(body, request.headers))

    @staticmethod
    def _connect(body, headers):
        cookie = body["headers"].get("Cookie", "")
        if "session=" not in cookie:
            return {"error": {"code": "unauthorized", "message": "log in first"}}
        user = cookie.split("session=", 1)[1].split(";")[0]
        if user == "banned":
            return {"error": {"code": "forbidden", "message": "banned users stay out"}}
        return {"result": {"user": user, "channels": ["chat:news"]}}

    @staticmethod
    def _subscribe(body, headers):
        if body["channel"] == "chat:secret":
            return {"error": {"code": "forbidden", "message": "not for " + body["user"]}}
        return {"result": {}}

    @staticmethod
    def _publish(body, headers):
        text = body["data"].get("text", "") if isinstance(body["data"], dict) else ""
        if "rude" in text:
            return {"error": {"code": "bad_request", "message": "no rude words"}}
        if text == "replace me":
            return {"result": {"data": {"text": "replaced", "by": body["user"]}}}
        return {"result": {}}

    @staticmethod
    def _rpc(body, headers):
        if body["method"] == "add":
            return {"result": {"data": {"sum": body["data"]["a"] + body["data"]["b"],
                                        "user": body["user"],
                                        "cookie": headers.get("Cookie", "")}}}
        return {"error": {"code": "not_found", "message": "no method " + body["method"]}}
