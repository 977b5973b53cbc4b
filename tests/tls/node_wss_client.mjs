// The Node `ws` client over wss:// to a server under test: echoes a text and a binary message of
// each size (up to 1 MiB) and checks them byte for byte, then closes with 1000.
//   node node_wss_client.mjs wss://127.0.0.1:PORT/path CA_FILE
// Prints `tls <version> alpn <protocol>` and exits 0 when everything matched.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const [url, caFile] = process.argv.slice(2);
const SIZES = [0, 20, 125, 16384, 65536, 1 << 20];
setTimeout(() => { console.error('timed out'); process.exit(1); }, 30000).unref();

const ws = new WebSocket(url, { ca: readFileSync(caFile), maxPayload: 0 });
const messages = [];
let waiting = null;
ws.on('message', (data, isBinary) => {
  messages.push({ data, isBinary });
  if (waiting) waiting();
});
const next = () => new Promise((resolve) => {
  if (messages.length) return resolve(messages.shift());
  waiting = () => { waiting = null; resolve(messages.shift()); };
});

await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
const socket = ws._socket;
console.log(`tls ${socket.getProtocol()} alpn ${socket.alpnProtocol}`);
for (const size of SIZES) {
  const text = 'é'.repeat(size >> 1) + 'x'.repeat(size & 1);
  ws.send(text);
  const t = await next();
  assert.equal(t.isBinary, false);
  assert.equal(t.data.toString(), text, `text echo of ${size} bytes`);
  const binary = randomBytes(size);
  ws.send(binary);
  const b = await next();
  assert.equal(b.isBinary, true);
  assert.ok(Buffer.compare(b.data, binary) === 0, `binary echo of ${size} bytes`);
}
const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
ws.close(1000);
assert.equal(await closed, 1000);
console.log(`${SIZES.length * 2} echoes OK`);
