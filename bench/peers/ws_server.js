// Node `ws` peer for the benchmark: echo, or with --broadcast every message sent to every open
// connection (the sender included), as ws's README shows broadcasting. permessage-deflate is
// off (ws's server default) unless --deflate: then on, with no context takeover both ways (as
// the generator offers) and threshold 0 so that every message is compressed (ws's default
// threshold, 1024 bytes, would leave a 1 KiB message plain). ws's zlib work runs on libuv's
// thread pool; bench/run pins the whole process, so it counts in the CPU time.
// --deflate-takeover: the same with context takeover both ways (ws's own default).
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

function parseArgs(argv) {
  const args = { host: '127.0.0.1', port: 0, broadcast: false, deflate: false };
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--broadcast') args.broadcast = true;
    else if (argv[i] === '--deflate') args.deflate = true;
    else if (argv[i] === '--deflate-takeover') args.deflate = args.takeover = true;
    else if (argv[i] === '--host') args.host = argv[++i];
    else if (argv[i] === '--port') args.port = Number(argv[++i]);
    else {
      console.error('usage: node ws_server.js [--host 127.0.0.1] --port P [--broadcast] [--deflate|--deflate-takeover]');
      process.exit(2);
    }
  }
  return args;
}

const args = parseArgs(process.argv);
const perMessageDeflate = args.deflate
  ? { threshold: 0, serverNoContextTakeover: !args.takeover, clientNoContextTakeover: !args.takeover }
  : false;
const wss = new WebSocketServer({ host: args.host, port: args.port, backlog: 4096, perMessageDeflate });

wss.on('connection', (ws) => {
  ws.on('error', () => {});  // a peer that vanishes mid-run is the generator's business
  ws.on('message', (data, isBinary) => {
    if (!args.broadcast) {
      ws.send(data, { binary: isBinary });
      return;
    }
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});

wss.on('listening', () => {
  const mode = args.broadcast ? 'broadcast' : 'echo';
  console.log(`bench-ws-server listening on ws://${args.host}:${wss.address().port} (${mode})`);
});
