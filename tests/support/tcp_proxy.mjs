// A TCP proxy on 127.0.0.1 that a test can cut: every open connection through it is dropped and
// new ones are refused until it is resumed on the same port. It stands for the network between
// a client and the server (a train tunnel, a laptop lid), so a test can take a client offline
// while the server and everyone else carry on.
import net from 'node:net';

export class TcpProxy {
  constructor(targetPort, targetHost = '127.0.0.1') {
    this.targetPort = targetPort;
    this.targetHost = targetHost;
    this.port = 0;
    this.sockets = new Set();
    this.server = null;
  }

  // Listens (on a free port the first time, on the same port after a cut).
  async start() {
    this.server = net.createServer((client) => this._relay(client));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = this.server.address().port;
    return this;
  }

  // Drops every connection (a reset, as when the network goes) and stops accepting new ones.
  async cut() {
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise((resolve) => server.close(resolve)) : Promise.resolve();
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    await closed;
  }

  resume() {
    return this.start();
  }

  async stop() {
    await this.cut();
  }

  _relay(client) {
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
