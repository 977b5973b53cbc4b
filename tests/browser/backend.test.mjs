// examples/python/backend in a real browser: Debian's chromium (playwright-core) on the
// example's aiohttp back end and a duplexd that asks it through its connect and publish proxies
// (docs/protocol.md, "Proxies"). Two people log in, each in a browser of their own (their own
// cookie jar), and chat; a rude word is refused in the page's own words and reaches nobody; a
// browser without a session opens the chat page and is refused by duplexd with the back end's
// reason.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';

import { REPO, ServerProcess } from '../support/servers.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update'];
const WAIT_MS = 20000;
const PYTHON = '/usr/bin/python3';
const EXAMPLE = path.join(REPO, 'examples', 'python', 'backend', 'app.py');

const scratch = mkdtempSync(path.join(os.tmpdir(), 'duplex-backend-'));
let browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// The example back end on a port of its own choosing; resolves with its URL once it listens.
async function startBackend(t, hubUrl) {
  const child = spawn(PYTHON, [EXAMPLE, '--port', '0', '--hub', hubUrl],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  t.after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const m = /backend listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(stdout);
    if (m) return m[1];
    if (child.exitCode !== null) throw new Error(`the back end exited: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`the back end did not start: ${stderr}`);
    await delay(20);
  }
}

// duplexd on `port`, its chat namespace decided by the back end at `backend`.
async function startDuplexd(t, port, backend) {
  const config = path.join(scratch, `hub-${port}.json`);
  writeFileSync(config, JSON.stringify({
    namespaces: { chat: { history_size: 100, anonymous: false, publish_proxy: true } },
    proxy: {
      connect: { url: `${backend}/duplex/connect`, timeout_ms: 2000 },
      publish: { url: `${backend}/duplex/publish`, timeout_ms: 2000 },
      headers: ['Cookie'],
    },
  }));
  const command = process.env.DUPLEXD || path.join(REPO, 'build', 'release', 'apps', 'duplexd');
  // DUPLEXD_THREADS=N (ctest's loops1/loops4 runs): duplexd on N loops; else its default.
  const server = new ServerProcess([command, '--host', '127.0.0.1', '--port', String(port),
    '--quiet', '--data', path.join(scratch, `data-${port}`), '--hub-config', config,
    ...(process.env.DUPLEXD_THREADS ? ['--threads', process.env.DUPLEXD_THREADS] : [])], 'duplexd');
  // Checked at the end only once it listens: one that could not (it has exited, or ready()
  // killed it) is the caller's to retry or report.
  await server.ready();
  t.after(() => server.stopAndCheck());
  return server;
}

// The back end and duplexd each need the other's address: duplexd gets a port chosen free
// beforehand. Another test's server or an outgoing connection's local port may take it while
// the back end starts (a second or more for Python's imports on a cold machine), and duplexd
// then cannot listen: both start again on another port.
async function startBackendAndDuplexd(t) {
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    const backend = await startBackend(t, `ws://127.0.0.1:${port}/connection`);
    try {
      await startDuplexd(t, port, backend);
      return backend;
    } catch (error) {
      if (tries === 3 || !/Address already in use/.test(String(error))) throw error;
    }
  }
}

// A browser of its own (its own cookies) on the chat page, logged in as `name` unless null.
async function person(t, backend, name) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(String(error)));
  if (name === null) {
    await page.goto(`${backend}/chat`);
  } else {
    await page.goto(`${backend}/`);
    assert.match(page.url(), /\/login$/);  // no session yet
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/chat$/);
  }
  return page;
}

async function eventually(what, probe, ok, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await probe();
    if (ok(seen)) return seen;
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${ms} ms waiting for ${what}; last seen: ${JSON.stringify(seen)}`);
    }
    await delay(50);
  }
}

function status(page) {
  return page.evaluate(() => {
    const el = document.getElementById('status');
    return { state: el.dataset.state, text: el.textContent };
  });
}

function lines(page) {
  return page.evaluate(() => [...document.querySelectorAll('#messages li')].map((li) => li.textContent));
}

async function say(page, text) {
  await page.locator('#text').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

describe('the Python back end example in chromium', () => {
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lets logged-in users chat, refuses rude words and a browser without a session', async (t) => {
    const backend = await startBackendAndDuplexd(t);

    const alice = await person(t, backend, 'alice');
    const bob = await person(t, backend, 'bob');
    for (const [page, name] of [[alice, 'alice'], [bob, 'bob']]) {
      const seen = await eventually(`${name} connected`, () => status(page),
        (s) => s.state !== 'connecting');
      assert.deepEqual(seen, { state: 'connected', text: `Signed in as ${name}` });
    }

    await say(alice, 'hello bob');
    for (const page of [alice, bob]) {
      await eventually('the message on both pages', () => lines(page),
        (l) => l.includes('alice: hello bob'));
    }
    await say(bob, 'hi alice');
    await eventually('the answer', () => lines(alice), (l) => l.includes('bob: hi alice'));

    // Refused by the back end's publish proxy: the page shows why, and nobody sees it.
    await say(bob, 'oh darn');
    await eventually('the refusal', () => bob.locator('#error').textContent(),
      (text) => text === 'please keep it polite');
    await say(alice, 'still here');
    await eventually('a later message', () => lines(bob), (l) => l.includes('alice: still here'));
    assert.deepEqual(await lines(bob), ['alice: hello bob', 'bob: hi alice', 'alice: still here']);

    // No session: the page loads, but duplexd's connect proxy refuses it.
    const nobody = await person(t, backend, null);
    const refused = await eventually('the refusal', () => status(nobody),
      (s) => s.state !== 'connecting');
    assert.deepEqual(refused, {
      state: 'refused', text: 'Refused: not logged in: log in first (unauthorized)',
    });
    assert.deepEqual(await lines(nobody), []);
    for (const page of [alice, bob, nobody]) assert.deepEqual(page.errors, []);
  });
});
