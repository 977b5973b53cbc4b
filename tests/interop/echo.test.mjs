// duplex-echo against the Node `ws` client (8.x), with and without permessage-deflate offered.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';

import { startDuplexEcho } from '../support/servers.mjs';

const SIZES = [0, 125, 126, 65535, 65536, 1 << 20];
const TIMEOUT_MS = 10000;

function withTimeout(promise, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function open(url, options = {}) {
  const ws = new WebSocket(url, { maxPayload: 0, ...options });
  ws.closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('error', (e) => (ws.lastError = e));
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  }), `open ${url}`);
}

function nextMessage(ws) {
  return withTimeout(new Promise((resolve) => {
    ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
  }), 'message');
}

// A string whose UTF-8 encoding is exactly n bytes, with 2- and 3-byte characters.
function textOf(n) {
  const unit = 'duplex€ü';  // 11 bytes
  const s = unit.repeat(Math.floor(n / 11)) + 'x'.repeat(n % 11);
  assert.equal(Buffer.byteLength(s), n);
  return s;
}

for (const deflate of [false, true]) {
  describe(`ws client, permessage-deflate ${deflate ? 'offered' : 'off'}`, () => {
    let server;
    const connect = (path = '/') => open(server.url + path, { perMessageDeflate: deflate });
    before(async () => {
      server = await startDuplexEcho();
    });
    after(async () => {
      await server.stopAndCheck();
    });

    for (const size of SIZES) {
      it(`echoes text of ${size} bytes`, async () => {
        const ws = await connect('/some/path');
        const text = textOf(size);
        ws.send(text);
        const { data, isBinary } = await nextMessage(ws);
        assert.equal(isBinary, false);
        assert.ok(data.toString() === text, 'text echo differs');
        ws.close(1000);
        assert.equal((await ws.closed).code, 1000);
      });

      it(`echoes binary of ${size} bytes`, async () => {
        const ws = await connect();
        const bytes = randomBytes(size);
        ws.send(bytes);
        const { data, isBinary } = await nextMessage(ws);
        assert.equal(isBinary, true);
        assert.ok(Buffer.compare(data, bytes) === 0, 'binary echo differs');
        ws.close(1000);
        await ws.closed;
      });
    }

    it('reassembles fragmented messages', async () => {
      const ws = await connect();
      ws.send('Hel', { fin: false });
      ws.send('lo, wö', { fin: false });
      ws.send('rld', { fin: true });
      const text = await nextMessage(ws);
      assert.equal(text.isBinary, false);
      assert.equal(text.data.toString(), 'Hello, wörld');

      const pieces = [randomBytes(1), randomBytes(0), randomBytes(70000), randomBytes(125)];
      pieces.forEach((p, i) => ws.send(p, { binary: true, fin: i === pieces.length - 1 }));
      const binary = await nextMessage(ws);
      assert.equal(binary.isBinary, true);
      assert.ok(Buffer.compare(binary.data, Buffer.concat(pieces)) === 0);
      ws.close();
      await ws.closed;
    });

    it('answers pings with pongs carrying the same payload', async () => {
      const ws = await connect();
      for (const payload of [Buffer.alloc(0), Buffer.from('duplex'), randomBytes(125)]) {
        const pong = withTimeout(new Promise((r) => ws.once('pong', r)), 'pong');
        ws.ping(payload);
        assert.ok(Buffer.compare(await pong, payload) === 0);
      }
      ws.close();
      await ws.closed;
    });

    for (const [code, reason] of [[1000, 'done'], [1001, ''], [3000, 'registered'],
      [4999, 'adiós 👋']]) {
      it(`round-trips close code ${code}`, async () => {
        const ws = await connect();
        ws.close(code, reason);
        const closed = await withTimeout(ws.closed, 'close');
        assert.equal(closed.code, code);
        // RFC 6455 5.5.1 asks the peer to echo the code; echoing the reason is optional.
        assert.ok(closed.reason === '' || closed.reason === reason, `reason ${closed.reason}`);
      });
    }

    it('closes with 1007 on a text message that is not UTF-8', async () => {
      const ws = await connect();
      ws.send(Buffer.from([0x6f, 0x6b, 0xff, 0xfe]), { binary: false });
      const closed = await withTimeout(ws.closed, 'close');
      assert.equal(closed.code, 1007);
    });
  });
}

describe('graceful shutdown', () => {
  it('SIGTERM: every client gets 1001 and the server exits 0', async () => {
    const server = await startDuplexEcho();
    try {
      const clients = await Promise.all([0, 1, 2].map(() => open(server.url)));
      for (const ws of clients) {
        ws.send('hello');
        assert.equal((await nextMessage(ws)).data.toString(), 'hello');
      }
      server.sigterm();
      const closes = await withTimeout(Promise.all(clients.map((ws) => ws.closed)), 'closes');
      assert.deepEqual(closes.map((c) => c.code), [1001, 1001, 1001]);
    } finally {
      await server.stopAndCheck();
    }
  });
});
