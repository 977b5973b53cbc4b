// The tomato page on two duplexd nodes sharing one Redis (docs/scaling.md), in Debian's chromium
// driven by playwright-core: a page loaded on node B after throws on node A shows every one of
// them (history read from Redis's stream, not from B's own memory), a reload on B shows them
// again and not doubled, and throws keep crossing both ways afterwards, each once with the same
// seq (the hub's offset) on both pages. The test starts its own redis-server and nodes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';

import { startRedis } from '../support/redis_server.mjs';
import { REPO, ServerProcess } from '../support/servers.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update'];
const KINDS = ['tomato', 'candy', 'egg', 'cat'];
const BUTTON = {
  tomato: 'Throw a tomato', candy: 'Throw a candy', egg: 'Throw an egg', cat: 'Throw a cat',
};
const WAIT_MS = 20000;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'duplex-scaleout-history-'));
let browser;

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

// What the page shows: its state, the counters, and each object's kind and heckle by seq.
function view(page) {
  return page.evaluate(() => {
    const counts = {};
    for (const el of document.querySelectorAll('[data-count]')) {
      counts[el.dataset.count] = Number(el.textContent);
    }
    const items = {};
    let shown = 0;
    for (const el of document.querySelectorAll('[data-kind]')) {
      items[el.dataset.seq] = { kind: el.dataset.kind, text: el.title };
      shown += 1;
    }
    return { state: document.getElementById('status').dataset.state, counts, items, shown };
  });
}

function tally(kinds) {
  const counts = Object.fromEntries(KINDS.map((kind) => [kind, 0]));
  for (const kind of kinds) counts[kind] += 1;
  return counts;
}

// Waits until the page is open and shows exactly these throws: the counters, and one object
// per seq (an object shown twice would make `shown` larger than the seqs).
async function waitShows(page, kinds, what) {
  const deadline = Date.now() + WAIT_MS;
  const want = tally(kinds);
  for (;;) {
    const seen = await view(page);
    const seqs = Object.keys(seen.items).length;
    if (seen.state === 'open' && JSON.stringify(seen.counts) === JSON.stringify(want) &&
        seqs === kinds.length && seen.shown === seqs) {
      return seen;
    }
    if (Date.now() > deadline) {
      assert.fail(`${what}: waiting for ${JSON.stringify(want)}; ` +
        `last seen ${JSON.stringify(seen)}`);
    }
    await delay(50);
  }
}

async function throwFrom(page, kind, heckle = '') {
  if (heckle) await page.getByLabel('Add a heckle').fill(heckle);
  await page.getByRole('button', { name: BUTTON[kind] }).click();
}

describe('the tomato page on two nodes over one Redis: history across nodes', () => {
  before(async () => {
    browser = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 800 },
    });
    browser.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a page loaded, and reloaded, on node B shows everything thrown on node A, once',
    { timeout: 90000 }, async (t) => {
      const redis = await startRedis(t, scratch);
      const nodeA = await startNode(t, redis);
      const nodeB = await startNode(t, redis);
      const a = await openPage(t, nodeA);
      await waitShows(a, [], 'page A open and empty');
      const thrown = ['tomato', 'egg', 'cat', 'tomato'];
      for (const kind of thrown) await throwFrom(a, kind, kind === 'cat' ? 'Meow!' : '');
      const onA = await waitShows(a, thrown, 'page A after its throws');

      // Node B has never had a subscriber of the channel: what the page gets is Redis's.
      const b = await openPage(t, nodeB);
      const loaded = await waitShows(b, thrown, 'page B loaded after the throws');
      assert.deepEqual(loaded.items, onA.items, 'the same throws, seqs and heckle on both nodes');

      await b.reload();
      const reloaded = await waitShows(b, thrown, 'page B after a reload');
      assert.deepEqual(reloaded.items, onA.items);

      // And live both ways after that, each throw once with one seq on both pages. A duplicate
      // would arrive before the last throw does, so once that shows, the counts are final.
      await throwFrom(b, 'candy');
      await throwFrom(a, 'egg');
      const all = [...thrown, 'candy', 'egg'];
      const finalA = await waitShows(a, all, 'page A after the throws from both');
      const finalB = await waitShows(b, all, 'page B after the throws from both');
      assert.deepEqual(finalB.items, finalA.items);
      assert.deepEqual(a.errors, []);
      assert.deepEqual(b.errors, []);
    });
});
