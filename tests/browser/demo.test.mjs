// The tomato demo in a real browser: Debian's chromium, driven by playwright-core, against a
// duplexd this file starts itself (the binary in $DUPLEXD; ctest sets it). It checks what a
// person in the room would see: a throw on one page lands on every page, a reload or a server
// restart loses nothing and doubles nothing, a page rides out a server outage by itself and a
// page cut off from the network catches up on what was thrown meanwhile (duplex.js recovery
// through the hub), refused throws come back as the hub's error shape and an alert in the
// page's own words, heckle bubbles never overlap and come back after a reload, the heckle box
// counts its 64 characters and throws on Enter, a phone held sideways (844x390) reaches every
// button without scrolling with the counters clear of the speaker, and index.html opened as a
// file says to open it from duplexd. Screenshots of those layouts go to $DUPLEX_SCREENSHOT_DIR.
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

import { DuplexClient } from '../../web/duplex.js';
import { REPO, ServerProcess } from '../support/servers.mjs';
import { TcpProxy } from '../support/tcp_proxy.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update'];
const VIEWPORT = { width: 1200, height: 800 };
const PHONE_SIDEWAYS = { width: 844, height: 390 };
const KINDS = ['tomato', 'candy', 'egg', 'cat'];
const BUTTON = {
  tomato: 'Throw a tomato', candy: 'Throw a candy', egg: 'Throw an egg', cat: 'Throw a cat',
};
// Generous for an ASan duplexd on a busy two-core machine, but bounded.
const WAIT_MS = 20000;
// A page that lost its server retries with backoff capped at 15 s (web/app.js), so coming back
// may take one full cap after the server is up again.
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
  // DUPLEXD_THREADS=N (ctest's loops1/loops4 runs): duplexd on N loops; else its default.
  const server = new ServerProcess([command, '--host', '127.0.0.1', '--port', String(port),
    '--quiet', '--data', dataDir, '--web', path.join(REPO, 'web'),
    ...(process.env.DUPLEXD_THREADS ? ['--threads', process.env.DUPLEXD_THREADS] : []), ...flags], 'duplexd');
  t.after(() => server.stopAndCheck());
  await server.ready();
  server.page = `http://127.0.0.1:${server.port}/`;
  server.hub = `ws://127.0.0.1:${server.port}/connection`;
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

// What the page shows: the status, the counters, the thrown objects by kind and their seqs (the
// hub's offsets).
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

// Another person in the room, outside the browser: duplex.js in Node over the `ws` package.
async function openClient(t, url) {
  const hub = new DuplexClient(url, { WebSocket, minDelayMs: 100, maxDelayMs: 1000 });
  t.after(() => hub.close());
  await hub.connect();
  return {
    // Throws (with a heckle when `text` is given); resolves once the hub has stored it.
    async throw(kind, text) {
      const { offset } = await hub.publish('demo:throws', text ? { kind, text } : { kind });
      return { kind, seq: offset };
    },
  };
}

// What the page's sockets received: hub replies ({id, result} / {id, error}) and pushes.
const repliesOf = (page) => page.received.filter((m) => m.id !== undefined);

// The heckle bubbles up on the page and the counters, as rects.
function bubbles(page) {
  return page.evaluate(() => {
    const rect = (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    };
    const up = [...document.querySelectorAll('.caption')]
      .filter((el) => getComputedStyle(el).visibility === 'visible');
    return {
      texts: up.map((el) => el.textContent),
      rects: up.map(rect),
      counters: [...document.querySelectorAll('.counter')].map(rect),
    };
  });
}

function intersects(a, b) {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

function assertApart({ texts, rects, counters }) {
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      assert.ok(!intersects(rects[i], rects[j]),
        `bubbles overlap: ${texts[i]} ${JSON.stringify(rects[i])} / ${texts[j]} ${JSON.stringify(rects[j])}`);
    }
    for (const counter of counters) {
      assert.ok(!intersects(rects[i], counter), `bubble on a counter: ${texts[i]}`);
    }
  }
}

// Screenshots of the layouts checked here go to $DUPLEX_SCREENSHOT_DIR when set (to look at
// them), else to the run's scratch dir.
async function shoot(page, name) {
  const dir = process.env.DUPLEX_SCREENSHOT_DIR || scratch;
  await page.screenshot({ path: path.join(dir, name) });
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
    const other = await openClient(t, second.hub);
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

  it('a page cut off while duplexd restarts catches up on what was thrown meanwhile, once each',
    { timeout: TEST_MS }, async (t) => {
      const data = freshDataDir();
      const first = await startDuplexd(t, data);
      // The page reaches duplexd through a proxy that stands for its network.
      const network = await new TcpProxy(first.port).start();
      t.after(() => network.stop());
      const p = await openPage(t, `http://127.0.0.1:${network.port}/`);
      const other = await openClient(t, first.hub);
      await throwFrom(p, 'tomato');
      const before = await other.throw('cat');
      await waitShows(p, ['tomato', 'cat'], 'the page before the cut');

      await network.cut();
      await eventually('the page to notice the cut', () => view(p),
        (seen) => seen.state === 'reconnecting');
      // While the page is away, duplexd is stopped and started again on the same port and data,
      // and the rest of the room goes on throwing.
      await first.stopAndCheck();
      const second = await startDuplexd(t, data, { port: first.port });
      const room = await openClient(t, second.hub);
      const meanwhile = [];
      for (const kind of ['egg', 'egg', 'candy', 'tomato']) meanwhile.push(await room.throw(kind));
      assert.ok(meanwhile[0].seq > before.seq, 'offsets go on after the restart');

      await network.resume();
      const all = ['tomato', 'cat', 'egg', 'egg', 'candy', 'tomato'];
      await waitShows(p, all, 'the page back, caught up', RECONNECT_MS);
      // It caught up by recovery: a subscribe reply that says so and carries exactly the
      // throws it missed, in order.
      const recovered = repliesOf(p).filter((m) => m.result?.recovered === true);
      assert.equal(recovered.length, 1, 'one recovering subscribe');
      assert.deepEqual(recovered[0].result.publications.map((pub) => [pub.offset, pub.data.kind]),
        meanwhile.map((m) => [m.seq, m.kind]));
      // A duplicate would come before a later throw: once that one is shown, the counts are final.
      await room.throw('cat');
      const seen = await waitShows(p, [...all, 'cat'], 'the page, settled');
      for (const m of meanwhile) assert.equal(seen.items[m.seq]?.kind, m.kind, `seq ${m.seq}`);
      assert.ok(!p.received.some((m) => m.result?.recovered === false), 'no failed recovery');
      assertNoPageErrors(p);
    });

  it('an invalid throw gets the hub\'s error shape, and nothing is stored', { timeout: TEST_MS },
    async (t) => {
      const server = await startDuplexd(t, freshDataDir());
      const page = await openPage(t, server.page);
      await waitShows(page, [], 'the page open');

      // A hand-written client in the page, speaking the hub protocol (docs/protocol.md).
      const answer = await page.evaluate((ms) => new Promise((resolve, reject) => {
        const url = new URL('connection', window.location.href);
        url.protocol = 'ws:';
        const ws = new WebSocket(url);
        const timer = setTimeout(() => reject(new Error('no answer to the rock')), ms);
        ws.onopen = () => {
          ws.send('{"id":1,"connect":{}}');
          ws.send('{"id":2,"publish":{"channel":"demo:throws","data":{"kind":"rock"}}}');
        };
        ws.onmessage = (event) => {
          const message = JSON.parse(event.data);
          if (message.id !== 2) return;
          clearTimeout(timer);
          ws.close();
          resolve(message);
        };
        ws.onclose = () => reject(new Error('closed without an answer'));
      }), WAIT_MS);
      assert.deepEqual(Object.keys(answer).sort(), ['error', 'id']);
      assert.deepEqual(Object.keys(answer.error).sort(), ['code', 'message']);
      assert.equal(answer.error.code, 'bad_request');
      assert.match(answer.error.message, /kind/, 'a message for people that names the field');

      // The rock was neither stored nor broadcast: after a good throw, the page shows just that
      // (no "rock" counter), and no alert, since the error went to the other socket only.
      await throwFrom(page, 'candy');
      const seen = await waitShows(page, ['candy'], 'the page after a good throw');
      assert.equal(seen.alert, null);
      assert.deepEqual(Object.values(seen.items).map((item) => item.kind), ['candy']);
      assertNoPageErrors(page);
    });

  it('a refused throw shows the page\'s own words, not the server\'s', { timeout: TEST_MS },
    async (t) => {
      const server = await startDuplexd(t, freshDataDir(), { flags: ['--rate', '1', '--burst', '1'] });
      const page = await openPage(t, server.page);
      await waitShows(page, [], 'the page open');

      // Three clicks within milliseconds: one throw allowed, the others refused.
      await page.getByRole('button', { name: BUTTON.tomato }).click({ clickCount: 3 });
      const refusals = () => repliesOf(page).filter((m) => m.error).map((m) => m.error);
      const seen = await eventually('an alert after the refusals', async () => ({
        alert: (await view(page)).alert,
        refusals: refusals(),
      }), (s) => s.refusals.length > 0 && s.alert !== null);
      for (const refusal of refusals()) assert.equal(refusal.code, 'rate_limited');
      // The page's words (web/demo-logic.js refusalText), not the hub's message for developers.
      assert.match(seen.alert, /^Easy there! Too many throws at once/);
      for (const refusal of seen.refusals) assert.ok(!seen.alert.includes(refusal.message));
      assert.doesNotMatch(seen.alert, /publications|per second|demo:/);
      assert.ok(await page.getByRole('alert').isVisible());

      // Another connection has its own allowance; its throw settles the page's counts.
      const other = await openClient(t, server.hub);
      await other.throw('cat');
      await waitShows(page, ['tomato', 'cat'], 'one tomato stored, the refused ones not');
      assertNoPageErrors(page);
    });

  it('the heckle box: the limit shows as you type, and Enter throws', { timeout: TEST_MS },
    async (t) => {
      const server = await startDuplexd(t, freshDataDir());
      const page = await openPage(t, server.page);
      await waitShows(page, [], 'the page open');
      const box = page.getByLabel('Add a heckle');
      const count = () => page.evaluate(() => {
        const el = document.getElementById('heckle-count');
        return { text: el.textContent, over: el.dataset.over, visible: el.checkVisibility() };
      });

      assert.deepEqual(await count(), { text: '0/64', over: 'false', visible: true });
      await box.pressSequentially('Boo');
      assert.deepEqual(await count(), { text: '3/64', over: 'false', visible: true });
      // Counted as the server counts: characters, so 64 emoji fit (128 UTF-16 units).
      await box.fill('🍅'.repeat(64));
      assert.equal((await count()).text, '64/64');
      await box.fill('x'.repeat(70));
      assert.deepEqual(await count(), { text: '70/64', over: 'true', visible: true });
      // Enter with a heckle too long: the page says why and throws nothing.
      await box.press('Enter');
      await eventually('the too-long alert', () => view(page),
        (seen) => seen.alert === 'A heckle can be 64 characters at most.');

      // Enter throws: a tomato at first, then the kind last thrown with a button.
      await box.fill('First!');
      await box.press('Enter');
      let seen = await waitShows(page, ['tomato'], 'the tomato Enter threw');
      assert.deepEqual(Object.values(seen.items), [{ kind: 'tomato', text: 'First!' }]);
      assert.equal(await box.inputValue(), '', 'the box empties after a throw');
      assert.equal((await count()).text, '0/64');
      await throwFrom(page, 'egg', 'Eggcellent');
      await waitShows(page, ['tomato', 'egg'], 'the egg');
      await box.fill('Again!');
      await box.press('Enter');
      seen = await waitShows(page, ['tomato', 'egg', 'egg'], 'Enter threw the last kind again');
      assert.deepEqual(Object.values(seen.items).map((item) => item.text),
        ['First!', 'Eggcellent', 'Again!']);
      assertNoPageErrors(page);
    });

  it('heckle bubbles never overlap, and come back after a reload', { timeout: TEST_MS },
    async (t) => {
      const server = await startDuplexd(t, freshDataDir());
      const page = await openPage(t, server.page);
      await waitShows(page, [], 'the page open');
      const other = await openClient(t, server.hub);
      const heckles = ['Boo!', 'Encore!', 'Show us the benchmarks!', 'Louder please',
        'Is this RFC 6455?', 'Cats are not allowed', 'What about HTTP/3?', 'Bravo!'];
      const kinds = [];
      // Thrown in a burst, so many are in the air and land close together.
      for (const [i, text] of heckles.entries()) {
        kinds.push(KINDS[i % 4]);
        await other.throw(KINDS[i % 4], text);
      }
      await waitShows(page, kinds, 'the heckled throws');
      // While they land, and after: no two bubbles overlap, none covers the counters.
      const samples = [];
      for (let i = 0; i < 30; i++) {
        samples.push(await bubbles(page));
        await delay(60);
      }
      await eventually('every throw landed', () => page.evaluate(
        () => document.querySelectorAll('.thrown.flying').length), (n) => n === 0);
      samples.push(await bubbles(page));
      for (const sample of samples) assertApart(sample);
      const live = await bubbles(page);
      // The newest four stay up.
      assert.deepEqual(live.texts.sort(), heckles.slice(-4).sort());

      // After a reload the same heckles are up again, as the throws are.
      await page.reload();
      await waitShows(page, kinds, 'the page after a reload');
      const reloaded = await eventually('the heckles back', () => bubbles(page),
        (b) => b.texts.length === 4);
      assert.deepEqual(reloaded.texts.sort(), heckles.slice(-4).sort());
      assertApart(reloaded);
      // And on a narrow window too, after the bubbles are laid out again.
      await page.setViewportSize({ width: 600, height: 700 });
      await delay(300);
      assertApart(await bubbles(page));
      await page.setViewportSize(VIEWPORT);
      assertNoPageErrors(page);
    });

  it('on a phone held sideways the buttons are on screen and the counters clear of the speaker',
    { timeout: TEST_MS }, async (t) => {
      const server = await startDuplexd(t, freshDataDir());
      const page = await openPage(t, server.page);
      await page.setViewportSize(PHONE_SIDEWAYS);
      await page.reload();
      const other = await openClient(t, server.hub);
      for (const kind of KINDS) await other.throw(kind, `a ${kind}!`);
      await waitShows(page, KINDS, 'the throws on a phone');
      const layout = await page.evaluate(() => {
        const box = (el) => {
          const r = el.getBoundingClientRect();
          return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
        };
        const onTop = (el) => {
          const r = el.getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return el.contains(hit);
        };
        return {
          scrollHeight: document.scrollingElement.scrollHeight,
          scrollWidth: document.scrollingElement.scrollWidth,
          buttons: [...document.querySelectorAll('[data-throw]')].map((b) => ({
            ...box(b), reachable: onTop(b),
          })),
          input: { ...box(document.getElementById('throw-text')),
            reachable: onTop(document.getElementById('throw-text')) },
          counters: [...document.querySelectorAll('.counter')].map(box),
          speaker: box(document.querySelector('.speaker-art')),
        };
      });
      const { width, height } = PHONE_SIDEWAYS;
      assert.ok(layout.scrollHeight <= height, `the page scrolls: ${layout.scrollHeight}px tall`);
      assert.ok(layout.scrollWidth <= width, `the page scrolls sideways: ${layout.scrollWidth}px`);
      for (const control of [...layout.buttons, layout.input]) {
        assert.ok(control.top >= 0 && control.bottom <= height && control.left >= 0 &&
          control.right <= width, `off screen: ${JSON.stringify(control)}`);
        assert.ok(control.reachable, `covered: ${JSON.stringify(control)}`);
      }
      for (const counter of layout.counters) {
        assert.ok(!intersects(counter, layout.speaker),
          `a counter covers the speaker: ${JSON.stringify({ counter, speaker: layout.speaker })}`);
      }
      // A tap throws without scrolling first.
      const before = await page.evaluate(() => window.scrollY);
      const [x, y] = [layout.buttons[0].left + 10, layout.buttons[0].top + 10];
      await page.mouse.click(x, y);
      await waitShows(page, [...KINDS, 'tomato'], 'the tapped tomato');
      assert.equal(await page.evaluate(() => window.scrollY), before);
      await eventually('every throw landed, heckles up', () => page.evaluate(() => ({
        flying: document.querySelectorAll('.thrown.flying').length,
        heckles: document.querySelectorAll('.caption.placed').length,
      })), (seen) => seen.flying === 0 && seen.heckles === 4);
      assertApart(await bubbles(page));
      await shoot(page, 'phone-sideways.png');
      assertNoPageErrors(page);
    });

  it('index.html opened as a file says to open it from duplexd', { timeout: TEST_MS },
    async (t) => {
      const page = await openPage(t, `file://${path.join(REPO, 'web', 'index.html')}`);
      const seen = await eventually('the notice', () => view(page), (v) => v.alert !== null);
      assert.match(seen.alert, /served by duplexd/);
      assert.match(seen.alert, /make demo/);
      assert.match(seen.alert, /http:\/\/127\.0\.0\.1:8080\//);
      assert.equal(await page.locator('#status .status-text').textContent(), 'Not connected');
      for (const kind of KINDS) {
        assert.ok(await page.getByRole('button', { name: BUTTON[kind] }).isDisabled());
      }
      await shoot(page, 'opened-as-file.png');
    });

  it('a screenshot after a few throws', { timeout: TEST_MS }, async (t) => {
    const server = await startDuplexd(t, freshDataDir());
    const page = await openPage(t, server.page);
    const other = await openClient(t, server.hub);
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
