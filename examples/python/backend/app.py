"""A chat where the application, not a JWT, says who is who: an aiohttp back end with a login
page and a session cookie, and duplexd asking it through its proxies (docs/protocol.md,
"Proxies"; docs/python.md walks through it).

    python3 examples/python/backend/app.py --port 8000 --hub ws://127.0.0.1:8080/connection
    build/release/apps/duplexd --port 8080 --hub-config examples/python/backend/hub.json

then open http://127.0.0.1:8000/ in two browsers, log in with two names and chat. The page talks
to duplexd directly; duplexd asks this back end:

- POST /duplex/connect: the browser's Cookie header (which it sent with the WebSocket upgrade)
  names a session; its user is the connection's user. No session: refused, and the page says so.
- POST /duplex/publish: a message with a rude word is refused; any other is stamped with its
  author's name (the back end replaces the data), so nobody can write as someone else.

Sessions live in memory: a restart logs everyone out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
from http.cookies import SimpleCookie
from pathlib import Path

from aiohttp import web

WEB = Path(__file__).resolve().parents[3] / "web"  # web/duplex.js, the hub's browser client
RUDE = re.compile(r"\b(darn|heck|blimey)\b", re.IGNORECASE)
CHANNEL = "chat:main"

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in</title></head>
<body><h1>Log in to chat</h1>
<form method="post" action="/login">
  <label>Your name <input name="name" required maxlength="32" pattern="[A-Za-z0-9_.-]+"></label>
  <button>Log in</button>
</form></body></html>
"""

CHAT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chat</title>
<style>body {{ font: 16px sans-serif; max-width: 40em; margin: 2em auto; }}
#messages {{ list-style: none; padding: 0; }} .who {{ font-weight: bold; }}</style></head>
<body><h1>Chat</h1>
<p id="status" data-state="connecting">Connecting...</p>
<ul id="messages"></ul>
<form id="send"><input id="text" autocomplete="off" maxlength="200" placeholder="Say something">
<button>Send</button></form>
<p id="error" role="alert" hidden></p>
<p><a href="/login">Log in as someone else</a></p>
<script type="module">
import {{ DuplexClient }} from '/duplex.js';

const HUB = {hub};
const status = document.getElementById('status');
const messages = document.getElementById('messages');
const error = document.getElementById('error');
const input = document.getElementById('text');

function show(data) {{
  const li = document.createElement('li');
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = data.user + ': ';
  li.append(who, document.createTextNode(data.text));
  messages.append(li);
}}

// No token: duplexd asks this back end who we are, from the session cookie the browser sends
// with the WebSocket upgrade.
const hub = new DuplexClient(HUB);
try {{
  const info = await hub.connect();
  status.dataset.state = 'connected';
  status.textContent = 'Signed in as ' + info.user;
  await hub.subscribe({channel}, (publication) => show(publication.data), {{ last: 50 }});
}} catch (err) {{
  status.dataset.state = 'refused';
  status.textContent = 'Refused: ' + err.reason + ' (' + err.code + ')';
}}

document.getElementById('send').addEventListener('submit', async (event) => {{
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  try {{
    await hub.publish({channel}, {{ text }});
    input.value = '';
    error.hidden = true;
  }} catch (err) {{
    error.textContent = err.reason;
    error.hidden = false;
  }}
}});
</script></body></html>
"""


def make_app(hub_url: str) -> web.Application:
    sessions: dict[str, str] = {}  # session id -> user name

    def user_of(cookie_header: str) -> str | None:
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except Exception:  # a malformed Cookie header is no session
            return None
        morsel = cookies.get("session")
        return sessions.get(morsel.value) if morsel else None

    async def index(request):
        raise web.HTTPFound("/chat" if user_of(request.headers.get("Cookie", "")) else "/login")

    async def login_page(request):
        return web.Response(text=LOGIN_PAGE, content_type="text/html")

    async def login(request):
        form = await request.post()
        name = str(form.get("name", ""))
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", name):
            raise web.HTTPBadRequest(text="a name is 1 to 32 of A-Z a-z 0-9 _ . -")
        session = secrets.token_urlsafe(24)
        sessions[session] = name
        response = web.HTTPFound("/chat")
        # Host-only, so the browser sends it to duplexd on another port of the same host too.
        response.set_cookie("session", session, httponly=True, samesite="Lax")
        raise response

    async def chat(request):
        # The page is served to anyone: duplexd, asking /duplex/connect, decides who may chat.
        page = CHAT_PAGE.format(hub=json.dumps(hub_url).replace("</", "<\\/"),
                                channel=json.dumps(CHANNEL))
        return web.Response(text=page, content_type="text/html")

    async def duplex_js(request):
        return web.FileResponse(WEB / "duplex.js", headers={"Content-Type": "text/javascript"})

    async def connect_proxy(request):
        body = await request.json()
        user = user_of(body.get("headers", {}).get("Cookie", ""))
        if user is None:
            return web.json_response(
                {"error": {"code": "unauthorized", "message": "not logged in: log in first"}})
        return web.json_response({"result": {"user": user}})

    async def publish_proxy(request):
        body = await request.json()
        data = body.get("data")
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            return web.json_response(
                {"error": {"code": "bad_request", "message": "a message is {\"text\": \"...\"}"}})
        if RUDE.search(text):
            return web.json_response(
                {"error": {"code": "bad_request", "message": "please keep it polite"}})
        # Replaced: the author is who the session says, whatever the page sent.
        return web.json_response({"result": {"data": {"user": body["user"], "text": text}}})

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_get("/chat", chat)
    app.router.add_get("/duplex.js", duplex_js)
    app.router.add_post("/duplex/connect", connect_proxy)
    app.router.add_post("/duplex/publish", publish_proxy)
    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--hub", default="ws://127.0.0.1:8080/connection",
                        help="duplexd's WebSocket URL, as the browser reaches it")
    args = parser.parse_args()

    async def serve():
        runner = web.AppRunner(make_app(args.hub), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, args.host, args.port).start()
        # The line tests wait for, with the port (useful with --port 0).
        port = runner.addresses[0][1]
        print(f"backend listening on http://{args.host}:{port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass

if __name__ == "__main__":
    main()
