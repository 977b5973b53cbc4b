// Node `ws` with permessage-deflate against duplex-echo --deflate: negotiated for real (the
// extension shows in ws.extensions) and every message matches byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startDuplexEcho } from '../support/servers.mjs';

function open(url, options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function echo(ws, data, binary) {
  return new Promise((resolve) => {
    ws.once('message', (message, isBinary) => resolve({ message, isBinary }));
    ws.send(data, { binary });
  });
}

for (const flags of [['--deflate'], ['--deflate', '--deflate-takeover']]) {
  test(`ws client with perMessageDeflate against duplex-echo ${flags.join(' ')}`, async () => {
    const server = await startDuplexEcho(...flags);
    try {
      const ws = await open(`${server.url}/x`, { perMessageDeflate: { threshold: 0 }, maxPayload: 0 });
      assert.match(ws.extensions, /permessage-deflate/);
      for (const n of [0, 1, 125, 126, 1000, 65535, 65536, 1 << 20]) {
        const text = 'cat '.repeat(Math.ceil(n / 4)).slice(0, n);
        const back = await echo(ws, text, false);
        assert.equal(back.isBinary, false);
        assert.equal(back.message.toString(), text);
        const bytes = Buffer.alloc(n, 7);
        for (let i = 0; i < n; i += 97) bytes[i] = i & 0xff;
        const backBinary = await echo(ws, bytes, true);
        assert.equal(backBinary.isBinary, true);
        assert.ok(backBinary.message.equals(bytes));
      }
      ws.close(1000);
      await new Promise((resolve) => ws.once('close', resolve));
    } finally {
      await server.stopAndCheck();
    }
  });
}
