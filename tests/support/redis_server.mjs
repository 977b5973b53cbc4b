// redis-server as a child of a `node --test` suite (the twin of redis_server.py): a free port on
// 127.0.0.1, a temporary directory, no persistence, never a system service; SIGKILLed when the
// test ends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Whether a Redis answers PING on the port; false for anything else there, also one that
// closes without a word or says nothing for a second.
function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString().includes('PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

// Starts one under `scratch` and resolves to its URL (redis://127.0.0.1:PORT) once it answers
// PING; `t.after` stops it. freePort() closes its socket before redis-server binds, so another
// test's server or an outgoing connection's local port may take the port meanwhile: redis-server
// then exits at once, and another port is tried (as tests/redis/redis_server.cpp does).
export async function startRedis(t, scratch) {
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    const dir = mkdtempSync(path.join(scratch, 'redis-'));
    const child = spawn(process.env.REDIS_SERVER || '/usr/bin/redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
        '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d) => (output = (output + d).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    t.after(() => child.kill('SIGKILL'));
    const deadline = Date.now() + 10000;
    let exited = false;
    while (!(await ping(port))) {
      if (child.exitCode !== null || child.signalCode !== null) {
        exited = true;
        break;
      }
      assert.ok(Date.now() < deadline, 'redis-server did not answer PING within 10 s');
      await delay(20);
    }
    if (!exited) return `redis://127.0.0.1:${port}`;
    assert.ok(tries < 3, `redis-server on port ${port} exited ${child.exitCode}:\n${output}`);
  }
}
