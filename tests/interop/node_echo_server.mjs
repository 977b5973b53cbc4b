// A Node `ws` echo server: the second independent peer for duplex-interop-client.
// Usage: node node_echo_server.mjs [--host 127.0.0.1] [--port 0] [--max-message BYTES]
// Prints `node-echo listening on ws://HOST:PORT`; on SIGTERM/SIGINT it closes every client with
// 1001 and exits 0 once they are gone.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'max-message': { type: 'string', default: String(16 * 1024 * 1024) },
  },
});

const wss = new WebSocketServer({
  host: values.host,
  port: Number(values.port),
  maxPayload: Number(values['max-message']),
  perMessageDeflate: true,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});  // ws closes with the right code itself; nothing more to do
});

wss.on('listening', () => {
  process.stdout.write(`node-echo listening on ws://${values.host}:${wss.address().port}\n`);
});

function shutdown() {
  for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  // Clients that never answer the close are cut off, so shutdown is bounded.
  const force = setTimeout(() => {
    for (const ws of wss.clients) ws.terminate();
  }, 3000);
  wss.close(() => {
    clearTimeout(force);
    process.exit(0);
  });
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
