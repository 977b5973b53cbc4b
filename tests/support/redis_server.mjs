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

function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString().includes('PONG'));
    });
    socket.on('error', () => resolve(false));
  });
}

// Starts one under `scratch` and resolves to its URL (redis://127.0.0.1:PORT) once it answers
// PING; `t.after` stops it.
export async function startRedis(t, scratch) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(scratch, 'redis-'));
  const child = spawn(process.env.REDIS_SERVER || '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'no'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 10000;
  while (!(await ping(port))) {
    assert.ok(child.exitCode === null, `redis-server exited ${child.exitCode}`);
    assert.ok(Date.now() < deadline, 'redis-server did not answer PING within 10 s');
    await delay(20);
  }
  return `redis://127.0.0.1:${port}`;
}
