// The client side of the load test: COUNT `ws` connections to one server, all held open at once,
// spread over source addresses 127.0.0.2.. so no one address runs short of ephemeral ports.
//
//   node load_client.mjs --url ws://127.0.0.1:PORT [--count 10000] [--addresses 10]
//                        [--concurrency 500] [--timeout 120]
//
// Phases, each reported as one JSON line on stdout:
//   open   every connection is open (and none has closed); then it waits for "go" on stdin,
//          so the caller can look at the server while all are held
//   done   each connection sent one message and got it back byte for byte, then closed with
//          1000; the counts say how many did
// Exits 0 only if every connection did all of it within --timeout seconds.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '10000' },
    addresses: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '500' },
    timeout: { type: 'string', default: '120' },
  },
});
const url = values.url;
const count = Number(values.count);
const addresses = Array.from({ length: Number(values.addresses) }, (_, i) => `127.0.0.${i + 2}`);
const concurrency = Math.min(Number(values.concurrency), count);
const started = Date.now();
const stats = { count, opened: 0, echoed: 0, closed: 0, errors: 0, ms: {} };
const problems = [];

function report(event, extra = {}) {
  process.stdout.write(`${JSON.stringify({ event, ...stats, problems: problems.slice(0, 10),
    ...extra })}\n`);
}

function fail(why) {
  problems.unshift(why);
  report('failed');
  process.exit(1);
}

const deadline = setTimeout(() => fail(`not finished after ${values.timeout} s`),
  Number(values.timeout) * 1000);

const sockets = new Array(count);
let holding = true;  // while true, any close is a failure

function openOne(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      localAddress: addresses[i % addresses.length],
      perMessageDeflate: false,
      handshakeTimeout: 30000,
    });
    ws.on('error', (e) => {
      stats.errors++;
      problems.push(`connection ${i}: ${e.message}`);
      reject(e);
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('open', () => resolve(ws));
    ws.once('close', (code) => {
      if (holding) problems.push(`connection ${i} closed early with ${code}`);
    });
  });
}

async function openAll() {
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      sockets[i] = await openOne(i);
      stats.opened++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function echoAll() {
  return new Promise((resolve) => {
    let pending = count;
    sockets.forEach((ws, i) => {
      const message = `connection ${i} says hello ${'.'.repeat(i % 100)}`;
      ws.once('message', (data, isBinary) => {
        if (!isBinary && data.toString() === message) stats.echoed++;
        else problems.push(`connection ${i}: wrong echo`);
        if (--pending === 0) resolve();
      });
      ws.send(message);
    });
  });
}

function closeAll() {
  holding = false;
  return Promise.all(sockets.map((ws, i) => new Promise((resolve) => {
    ws.once('close', (code) => {
      if (code === 1000) stats.closed++;
      else problems.push(`connection ${i}: closed with ${code}`);
      resolve();
    });
    ws.close(1000, 'done');
  })));
}

function waitForGo() {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      if (line.trim() === 'go') {
        lines.close();
        resolve();
      }
    });
  });
}

try {
  await openAll();
} catch (e) {
  fail(`opening: ${e.message} after ${stats.opened} opened`);
}
stats.ms.open = Date.now() - started;
if (problems.length) fail('connections closed while all were being held');
report('open');
await waitForGo();
if (problems.length) fail('connections closed while all were being held');

let t = Date.now();
await echoAll();
stats.ms.echo = Date.now() - t;
t = Date.now();
await closeAll();
stats.ms.close = Date.now() - t;
clearTimeout(deadline);
const ok = stats.opened === count && stats.echoed === count && stats.closed === count &&
  problems.length === 0;
report('done', { ok });
process.exit(ok ? 0 : 1);
