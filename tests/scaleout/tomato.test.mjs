// The tomato page open on two duplexd nodes that share one Redis (docs/scaling.md), in Debian's
// chromium driven by playwright-core: a throw on the page of node A shows on the page of node B
// and back, each once. The test starts its own redis-server (free port, temp dir) and nodes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';

import { REPO, ServerProcess } from '../support/servers.mjs';

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 20000;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'duplex-scaleout-'));
let browser;

function freePort() {
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

async function startRedis(t) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(scratch, 'redis-'));
  const child = spawn(process.env.REDIS_SERVER || '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'no'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 10000;
  while (!(await ping(port))) {
    assert.ok(Date.now() < deadline, 'redis-server did not answer PING');
    await delay(20);
  }
  return `redis://127.0.0.1:${port}`;
}

async function startNode(t, redisUrl) {
  const command = process.env.DUPLEXD || path.join(REPO, 'build', 'release', 'apps', 'duplexd');
  const server = new ServerProcess([command, '--host', '127.0.0.1', '--port', '0', '--quiet',
    '--data', mkdtempSync(path.join(scratch, 'data-')), '--web', path.join(REPO, 'web'),
    '--engine', redisUrl], 'duplexd');
  t.after(() => server.stopAndCheck());
  await server.ready();
  return `http://127.0.0.1:${server.port}/`;
}

async function openPage(t, url) {
  const page = await browser.newPage();
  t.after(() => page.close());
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(String(error)));
  await page.goto(url);
  return page;
}

// The page's state, its counters and the seqs (hub offsets) of the objects it shows.
function view(page) {
  return page.evaluate(() => {
    const counts = {};
    for (const el of document.querySelectorAll('[data-count]')) {
      counts[el.dataset.count] = Number(el.textContent);
    }
    const seqs = [...document.querySelectorAll('[data-kind]')].map((el) => Number(el.dataset.seq));
    return { state: document.getElementById('status').dataset.state, counts, seqs };
  });
}

async function waitFor(page, what, ok) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const seen = await view(page);
    if (ok(seen)) return seen;
    if (Date.now() > deadline) assert.fail(`waiting for ${what}; last seen ${JSON.stringify(seen)}`);
    await delay(50);
  }
}

describe('the tomato page on two nodes over Redis', () => {
  before(async () => {
    browser = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      viewport: { width: 1200, height: 800 },
    });
    browser.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a throw on node A shows on node B and back, once each', { timeout: 60000 }, async (t) => {
    const redis = await startRedis(t);
    const a = await openPage(t, await startNode(t, redis));
    const b = await openPage(t, await startNode(t, redis));
    for (const page of [a, b]) await waitFor(page, 'an open page', (s) => s.state === 'open');

    await a.getByRole('button', { name: 'Throw a tomato' }).click();
    await waitFor(b, 'A\'s tomato on B', (s) => s.counts.tomato === 1);
    await b.getByRole('button', { name: 'Throw a cat' }).click();
    const seenA = await waitFor(a, 'B\'s cat on A', (s) => s.counts.cat === 1 && s.counts.tomato === 1);
    const seenB = await waitFor(b, 'both on B', (s) => s.counts.cat === 1 && s.counts.tomato === 1);
    for (const seen of [seenA, seenB]) {
      assert.deepEqual([...seen.seqs].sort(), [1, 2], 'each throw once, with the same offsets');
    }
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  });
});
