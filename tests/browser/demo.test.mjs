// The tomato demo in a real browser: Debian's chromium, driven by playwright-core, against a
// duplexd this file starts itself (the binary in $DUPLEXD; ctest sets it). It checks what a
// person in the room would see: a throw on one page lands on every page, a reload or a server
// restart loses nothing and doubles nothing, a page rides out a server outage by itself, and
// refused throws come back as the documented error shape and as a visible alert.
//
// The screenshot a run takes (a page after a few throws, 1200x800) goes to $DUPLEX_SCREENSHOT,
// or to a temp dir when that is unset. The one in the README is refreshed with
//   DUPLEX_SCREENSHOT=docs/screenshot.png DUPLEXD=build/release/apps/duplexd \
//     node --test tests/browser/demo.test.mjs
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const VIEWPORT = { width: 1200, height: 800 };
const KINDS = ['tomato', 'candy', 'egg', 'cat'];
const BUTTON = {
  tomato: 'Throw a tomato', candy: 'Throw a candy', egg: 'Throw an egg', cat: 'Throw a cat',
};
// Generous for an ASan duplexd on a busy two-core machine, but bounded.
const WAIT_MS = 20000;
// A page that lost its server retries with backoff capped at 15 s (docs/demo-protocol.md), so
// coming back may take one full cap after the server is up again.
const RECONNECT_MS = 45000;
const TEST_MS = 120000;

const scratch = mkdtempSync(path.join(os.tmpdir(), 'duplex-browser-'));
let browser;       // a persistent context: chromium with its own fresh user-data dir
let dataDirs = 0;

function freshDataDir() {
  return path.join(scratch, `data-${++dataDirs}`);
}

// Every duplexd a test starts is stopped when the test ends: SIGTERM and a check that it exits
// 0 (on a failed test too, so nothing is left running; servers.mjs SIGKILLs what still hangs).
async function startDuplexd(t, dataDir, { port = 0, flags = [] } = {}) {
  const command = process.env.DUPLEXD || path.join(REPO, 'build', 'release', 'apps', 'duplexd');
  const server = new ServerProcess([command, '--host', '127.0.0.1', '--port', String(port),
    '--quiet', '--data', dataDir, '--web', path.join(REPO, 'web'), ...flags], 'duplexd');
  t.after(() => server.stopAndCheck());
  await server.ready();
  server.page = `http://127.0.0.1:${server.port}/`;
  server.ws = `ws://127.0.0.1:${server.port}/ws`;
  return server;
}

// A page with a record of what went wrong in it (uncaught exceptions) and of the text frames
// its sockets received, closed when the test ends.
async function openPage(t, url) {
  const page = await browser.newPage();
  t.after(() => page.close());
  page.errors = [];
  page.received = [];
  page.on('pageerror', (error) => page.errors.push(String(error)));
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string') return;
      try {
        page.received.push(JSON.parse(payload));
      } catch {
        page.received.push({ notJson: payload });
      }
    });
  });
  await page.goto(url);
  return page;
}

function assertNoPageErrors(...pages) {
  for (const page of pages) assert.deepEqual(page.errors, [], 'uncaught exceptions in the page');
}

// What the page shows: the status, the counters, the thrown objects by kind and their seqs.
function view(page) {
  return page.evaluate(() => {
    const counts = {};
    for (const el of document.querySelectorAll('[data-count]')) {
      counts[el.dataset.count] = Number(el.textContent);
    }
    const objects = {};
    const seqs = [];
    const items = {};
    for (const el of document.querySelectorAll('[data-kind]')) {
      objects[el.dataset.kind] = (objects[el.dataset.kind] ?? 0) + 1;
      seqs.push(Number(el.dataset.seq));
      items[el.dataset.seq] = { kind: el.dataset.kind, text: el.title };
    }
    const alert = document.querySelector('[role="alert"]');
    return {
      state: document.getElementById('status').dataset.state,
      counts,
      objects,
      seqs,
      items,
      alert: alert && !alert.hidden ? alert.textContent : null,
    };
  });
}

// Polls `probe` until `ok` holds of its result; fails with the last result after `ms`.
async function eventually(what, probe, ok, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await probe();
    if (ok(seen)) return seen;
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${ms} ms waiting for ${what}; last seen:\n` +
        JSON.stringify(seen, null, 1));
    }
    await delay(50);
  }
}

function tally(kinds) {
  const counts = Object.fromEntries(KINDS.map((kind) => [kind, 0]));
  for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

function shows(seen, kinds) {
  const want = tally(kinds);
  const objects = Object.fromEntries(Object.entries(want).filter(([, n]) => n > 0));
  try {
    assert.equal(seen.state, 'open');
    assert.deepEqual(seen.counts, want);
    assert.deepEqual(seen.objects, objects);
    assert.equal(new Set(seen.seqs).size, seen.seqs.length, 'an object shown twice');
    return true;
  } catch {
    return false;
  }
}

// Waits until the page is open and shows exactly the throws in `kinds` (a list of kinds, one
// per throw): counters, objects on the speaker, and every seq once.
function waitShows(page, kinds, what, ms = WAIT_MS) {
  return eventually(`${what}: ${JSON.stringify(tally(kinds))}`, () => view(page),
    (seen) => shows(seen, kinds), ms);
}

async function throwFrom(page, kind, heckle = '') {
  if (heckle) await page.getByLabel('Add a heckle').fill(heckle);
  await page.getByRole('button', { name: BUTTON[kind] }).click();
}

// A plain WebSocket client (the `ws` package): another person in the room, outside the browser.
async function openClient(t, url) {
  const ws = new WebSocket(`${url}?since=0`);
  const messages = [];
  const waiters = new Set();
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters) wake();
  });
  t.after(() => ws.close());
  const client = {
    // The next message after those already taken that satisfies `ok`.
    async next(ok, what) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const i = messages.findIndex(ok);
        if (i >= 0) return messages.splice(0, i + 1).at(-1);
        const left = deadline - Date.now();
        if (left <= 0) assert.fail(`client: no ${what} within ${WAIT_MS} ms`);
        await new Promise((resolve) => {
          const wake = () => { waiters.delete(wake); clearTimeout(timer); resolve(); };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
    // Throws and waits for the broadcast of that throw, stored and numbered.
    async throw(kind) {
      ws.send(JSON.stringify({ type: 'throw', kind }));
      return client.next((m) => m.type === 'throw' && m.kind === kind, `${kind} broadcast`);
    },
  };
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await client.next((m) => m.type === 'history', 'history');
  return client;
}

function pngSize(file) {
  const png = readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('the tomato demo in chromium', () => {
  before(async () => {
    browser = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: VIEWPORT,
    });
    browser.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a throw on one page lands on the other', { timeout: TEST_MS }, async (t) => {
    const server = await startDuplexd(t, freshDataDir());
    const a = await openPage(t, server.page);
    const b = await openPage(t, server.page);
    await waitShows(a, [], 'page A open and empty');
    await waitShows(b, [], 'page B open and empty');

    await throwFrom(a, 'tomato');
    await waitShows(b, ['tomato'], 'page B shows page A\'s tomato');
    await waitShows(a, ['tomato'], 'page A shows its own tomato once it is back');
    assert.equal(await b.locator('[data-kind="tomato"]').count(), 1);
    assert.equal(await b.locator('[data-count="tomato"]').textContent(), '1');
    assertNoPageErrors(a, b);
  });

  it('a reload shows the history, not doubled', { timeout: TEST_MS }, async (t) => {
    const server = await startDuplexd(t, freshDataDir());
    const a = await openPage(t, server.page);
    const b = await openPage(t, server.page);
    await waitShows(b, [], 'page B open');
    await throwFrom(a, 'tomato');
    await throwFrom(a, 'egg');
    await waitShows(b, ['tomato', 'egg'], 'page B before the reload');
    const before = await view(b);

    await b.reload();
    const reloaded = await waitShows(b, ['tomato', 'egg'], 'page B after the reload');
    assert.deepEqual(reloaded.items, before.items, 'the same items, by seq');
    // Anything the server sent twice would come before a later throw: after that one is
    // shown, the counts are final.
    await throwFrom(a, 'cat');
    await waitShows(b, ['tomato', 'egg', 'cat'], 'page B after one more throw');
    assertNoPageErrors(a, b);
  });

  it('throws survive a restart of duplexd', { timeout: TEST_MS }, async (t) => {
    const data = freshDataDir();
    const first = await startDuplexd(t, data);
    const a = await openPage(t, first.page);
    const thrown = ['tomato', 'candy', 'egg', 'egg', 'cat', 'tomato'];
    for (const kind of thrown) await throwFrom(a, kind, kind === 'cat' ? 'Meow!' : '');
    const before = await waitShows(a, thrown, 'page A after the throws');

    await first.stopAndCheck();
    const second = await startDuplexd(t, data);
    const c = await openPage(t, second.page);
    const after = await waitShows(c, thrown, 'a new page on the restarted duplexd');
    assert.deepEqual(after.items, before.items, 'the same items, seqs and heckles');
    assert.ok(Object.values(after.items).some((item) => item.text === 'Meow!'), 'the heckle');
    assertNoPageErrors(a, c);
  });

  it('a page reconnects by itself when the server comes back', { timeout: TEST_MS }, async (t) => {
    const data = freshDataDir();
    const first = await startDuplexd(t, data);
    const p = await openPage(t, first.page);
    await throwFrom(p, 'tomato');
    await waitShows(p, ['tomato'], 'the page before the outage');

    await first.stopAndCheck();
    await eventually('the status to say reconnecting', () => view(p),
      (seen) => seen.state === 'reconnecting');
    assert.ok(await p.getByRole('button', { name: BUTTON.egg }).isDisabled(),
      'no throwing while offline');

    const second = await startDuplexd(t, data, { port: first.port });
    const other = await openClient(t, second.ws);
    const meanwhile = [await other.throw('egg'), await other.throw('cat')];
    assert.deepEqual(meanwhile.map((m) => m.kind), ['egg', 'cat']);
    await waitShows(p, ['tomato', 'egg', 'cat'], 'the page back online', RECONNECT_MS);
    // A duplicate (history overlapping what the page had, or a throw sent both ways) would come
    // before this one: once it is shown, the counts are final.
    await other.throw('candy');
    const seen = await waitShows(p, ['tomato', 'egg', 'cat', 'candy'], 'the page, settled');
    for (const m of meanwhile) assert.equal(seen.items[m.seq]?.kind, m.kind, `seq ${m.seq}`);
    assertNoPageErrors(p);
  });

  it('an invalid throw gets the error shape, and nothing is stored', { timeout: TEST_MS },
    async (t) => {
      const server = await startDuplexd(t, freshDataDir());
      const page = await openPage(t, server.page);
      await waitShows(page, [], 'the page open');

      const answer = await page.evaluate((ms) => new Promise((resolve, reject) => {
        const url = new URL('ws', window.location.href);
        url.protocol = 'ws:';
        const ws = new WebSocket(url);
        const timer = setTimeout(() => reject(new Error('no answer to the rock')), ms);
        ws.onopen = () => ws.send('{"type":"throw","kind":"rock"}');
        ws.onmessage = (event) => {
          const message = JSON.parse(event.data);
          if (message.type === 'history') return;
          clearTimeout(timer);
          ws.close();
          resolve(message);
        };
        ws.onclose = () => reject(new Error('closed without an answer'));
      }), WAIT_MS);
      assert.deepEqual(Object.keys(answer).sort(), ['code', 'message', 'type']);
      assert.equal(answer.type, 'error');
      assert.equal(answer.code, 'bad_kind');
      assert.equal(typeof answer.message, 'string');
      assert.ok(answer.message.length > 0, 'a message for people');

      // The rock was neither stored nor broadcast: after a good throw, the page shows just that
      // (no "rock" counter), and no alert, since the error went to the other socket only.
      await throwFrom(page, 'candy');
      const seen = await waitShows(page, ['candy'], 'the page after a good throw');
      assert.equal(seen.alert, null);
      assertNoPageErrors(page);
    });

  it('the page shows the server\'s error when it throws too fast', { timeout: TEST_MS },
    async (t) => {
      const server = await startDuplexd(t, freshDataDir(), { flags: ['--rate', '1', '--burst', '1'] });
      const page = await openPage(t, server.page);
      await waitShows(page, [], 'the page open');

      // Three clicks within milliseconds: one throw allowed, the others refused.
      await page.getByRole('button', { name: BUTTON.tomato }).click({ clickCount: 3 });
      // The alert says what the server said (the latest refusal, when there were two).
      const refusals = () => page.received.filter((m) => m.type === 'error');
      await eventually('an alert with the server\'s refusal', async () => ({
        alert: (await view(page)).alert,
        refusals: refusals(),
      }), (seen) => seen.refusals.length > 0 && seen.alert === seen.refusals.at(-1).message);
      for (const refusal of refusals()) assert.equal(refusal.code, 'rate_limited');
      assert.ok(await page.getByRole('alert').isVisible());

      // Another connection has its own allowance; its throw settles the page's counts.
      const other = await openClient(t, server.ws);
      await other.throw('cat');
      await waitShows(page, ['tomato', 'cat'], 'one tomato stored, the refused ones not');
      assertNoPageErrors(page);
    });

  it('a screenshot after a few throws', { timeout: TEST_MS }, async (t) => {
    const server = await startDuplexd(t, freshDataDir());
    const page = await openPage(t, server.page);
    const other = await openClient(t, server.ws);
    const earlier = ['tomato', 'egg', 'candy', 'tomato', 'cat', 'tomato', 'egg', 'candy', 'tomato',
      'egg', 'tomato', 'candy'];
    for (const kind of earlier) await other.throw(kind);
    await throwFrom(page, 'tomato');
    await throwFrom(page, 'cat', 'Show us the benchmarks!');
    const thrown = [...earlier, 'tomato', 'cat'];
    await waitShows(page, thrown, 'the page after the throws');
    // Everything landed, and the last heckle's bubble is fully up (it fades after about 3 s).
    await page.mouse.move(0, 0);  // no hover effect on the last button clicked
    await eventually('the throws to land, with a heckle showing', () => page.evaluate(() => {
      const caption = document.querySelector('.caption');
      return {
        flying: document.querySelectorAll('.thrown.flying').length,
        caption: caption && getComputedStyle(caption).opacity,
      };
    }), (seen) => seen.flying === 0 && seen.caption === '1');

    const file = process.env.DUPLEX_SCREENSHOT
      ? path.resolve(process.env.DUPLEX_SCREENSHOT)
      : path.join(scratch, 'screenshot.png');
    await page.screenshot({ path: file });
    assert.deepEqual(pngSize(file), VIEWPORT);
    assertNoPageErrors(page);
  });
});
