// The admin page (/admin, web/admin/) in Debian's chromium, driven by playwright-core, against
// a duplexd started with --admin-password: a wrong password is refused with the page's alert
// and no dashboard; the right one shows live plots fed over /admin/live, the channels with
// their subscribers and offsets, a channel's presence, and publishes to a channel and
// disconnects a user through the server API, as two hub clients outside the browser see.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

import { REPO, ServerProcess } from '../support/servers.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update'];
const WAIT_MS = 20000;
const PASSWORD = 'admin-test-password';
const TOKEN_SECRET = 'admin-test-token-secret';
const DUPLEXD = process.env.DUPLEXD || path.join(REPO, 'build', 'release', 'apps', 'duplexd');

const scratch = mkdtempSync(path.join(os.tmpdir(), 'duplex-admin-'));
let browser;

async function eventually(what, probe, ok, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await probe();
    if (ok(seen)) return seen;
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; last seen:\n${JSON.stringify(seen, null, 1)}`);
    }
    await delay(50);
  }
}

async function startDuplexd(t) {
  process.env.DUPLEX_TOKEN_SECRET = TOKEN_SECRET;
  // DUPLEXD_THREADS=N (ctest's loops1/loops4 runs): duplexd on N loops; else its default.
  const server = new ServerProcess([DUPLEXD, '--host', '127.0.0.1', '--port', '0', '--quiet',
    '--data', path.join(scratch, `data-${Date.now()}`), '--web', path.join(REPO, 'web'),
    '--admin-password', PASSWORD, ...(process.env.DUPLEXD_THREADS ? ['--threads', process.env.DUPLEXD_THREADS] : [])], 'duplexd');
  t.after(() => server.stopAndCheck());
  await server.ready();
  server.admin = `http://127.0.0.1:${server.port}/admin`;
  return server;
}

// A hub client speaking the protocol (docs/protocol.md) over `ws`: commands by id, pushes kept.
async function hubClient(t, server, query = '') {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/connection${query}`);
  const client = { ws, pushes: [], replies: new Map(), nextId: 1, closed: null };
  client.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.push) client.pushes.push(message.push);
    else client.replies.set(message.id, message);
  });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  client.call = async (method, params = {}) => {
    const id = client.nextId++;
    ws.send(JSON.stringify({ id, [method]: params }));
    return eventually(`reply ${id}`, () => client.replies.get(id), (r) => r !== undefined);
  };
  t.after(() => ws.close());
  return client;
}

async function openAdmin(t, server) {
  const page = await browser.newPage();
  t.after(() => page.close());
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(String(error)));
  await page.goto(server.admin);
  return page;
}

describe('the admin page in chromium', () => {
  before(async () => {
    browser = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
      viewport: { width: 1300, height: 900 },
    });
    browser.setDefaultTimeout(WAIT_MS);
  });
  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses a wrong password and shows nothing of the dashboard', async (t) => {
    const server = await startDuplexd(t);
    const page = await openAdmin(t, server);
    await page.getByLabel('Password or API key').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await eventually('the refusal', () => page.locator('#login-error').isVisible(), Boolean);
    assert.equal(await page.locator('#login-error').textContent(), 'wrong password');
    assert.equal(await page.locator('#dashboard').isVisible(), false);
    assert.equal(await page.locator('#status').getAttribute('data-state'), 'out');
    // The server API does not take it either.
    const answer = await fetch(`http://127.0.0.1:${server.port}/api/presence`, {
      method: 'POST', headers: { 'X-API-Key': 'not-the-password' },
      body: '{"channel":"talk:x"}',
    });
    assert.equal(answer.status, 403);
    assert.deepEqual(page.errors, []);
  });

  it('shows live numbers, channels, presence, and publishes and disconnects', async (t) => {
    const server = await startDuplexd(t);
    const token = execFileSync(DUPLEXD, ['token', '--user', 'alice'],
      { env: { ...process.env, DUPLEX_TOKEN_SECRET: TOKEN_SECRET } }).toString().trim();
    const alice = await hubClient(t, server, `?token=${token}`);
    const bob = await hubClient(t, server);
    assert.ok((await alice.call('subscribe', { channel: 'talk:room' })).result);
    assert.ok((await bob.call('subscribe', { channel: 'talk:room' })).result);

    const page = await openAdmin(t, server);
    await page.getByLabel('Password or API key').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await eventually('the dashboard', () => page.locator('#dashboard').isVisible(), Boolean);
    assert.equal(await page.locator('#status').getAttribute('data-state'), 'in');

    // Plots: connections counted from the same numbers as /metrics (2 hub clients, the admin
    // socket), and rates once two snapshots have come.
    const plotted = () => page.evaluate(() => Object.fromEntries(
      [...document.querySelectorAll('figure[data-metric]')].map(
        (f) => [f.dataset.metric, f.dataset.latest === undefined ? null : Number(f.dataset.latest)])));
    const plots = await eventually('all four plots', plotted,
      (p) => Object.values(p).every((v) => v !== null));
    assert.ok(plots.connections >= 3, JSON.stringify(plots));

    const rows = () => page.evaluate(() => [...document.querySelectorAll('#channels tbody tr')]
      .map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((c) => c.textContent)));
    await eventually('talk:room with 2 subscribers', rows,
      (r) => r.some(([c, s]) => c === 'talk:room' && s === '2'));

    // Presence: both clients, alice by name.
    await page.locator('tr[data-channel="talk:room"] button').click();
    const members = await eventually('presence', () => page.locator('#presence li').allTextContents(),
      (m) => m.length === 2);
    assert.ok(members.some((m) => m.endsWith('(alice)')), JSON.stringify(members));

    // Publish: bob receives it, and the offset in the table moves to 1.
    await page.getByLabel('Channel').fill('talk:room');
    await page.getByLabel('Data (JSON)').fill('{"text": "from the admin page"}');
    await page.getByRole('button', { name: 'Publish' }).click();
    const pub = await eventually('the publication at bob', () => bob.pushes.find((p) => p.pub),
      Boolean);
    assert.deepEqual(pub.pub, { offset: 1, data: { text: 'from the admin page' } });
    await eventually('offset 1 in the table', rows,
      (r) => r.some(([c, , o]) => c === 'talk:room' && o === '1'));
    const published = await eventually('publish result', () => page.locator('#result').textContent(),
      (text) => text.startsWith('publish: 200'));
    assert.match(published, /"offset":1/);

    // Disconnect alice: her connection ends with 4003, bob's stays.
    await page.getByLabel('User').fill('alice');
    await page.getByRole('button', { name: 'Disconnect' }).click();
    assert.equal(await alice.closed, 4003);
    await eventually('disconnect result', () => page.locator('#result').textContent(),
      (text) => text === 'disconnect: 200 {"result":{"disconnected":1}}');
    assert.equal(bob.ws.readyState, WebSocket.OPEN);
    await eventually('talk:room with 1 subscriber', rows,
      (r) => r.some(([c, s]) => c === 'talk:room' && s === '1'));
    assert.deepEqual(page.errors, []);
  });
});
