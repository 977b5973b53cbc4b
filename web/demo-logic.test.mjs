// Tests of the page's logic: `node --test web/` (also run by ctest as web_demo_logic).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DEMO_CHANNEL,
  HISTORY_LIMIT,
  KNOWN_KINDS,
  MAX_TEXT_CHARS,
  acceptPublication,
  clearState,
  createState,
  hubUrlFor,
  landingSpot,
  refusalText,
  throwData,
  heckleCount,
  placeBubble,
} from './demo-logic.js';

const pub = (offset, kind = 'tomato', text, replayed) => {
  const data = { kind };
  if (text !== undefined) data.text = text;
  const p = { channel: DEMO_CHANNEL, offset, data };
  if (replayed) p.replayed = true;
  return p;
};

test('hub URL: scheme follows the page, host and port kept, path prefix kept', () => {
  assert.equal(hubUrlFor('http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/connection');
  assert.equal(hubUrlFor('http://127.0.0.1:8080'), 'ws://127.0.0.1:8080/connection');
  assert.equal(hubUrlFor('https://example.org/'), 'wss://example.org/connection');
  assert.equal(hubUrlFor('https://example.org/talk/'), 'wss://example.org/talk/connection');
  assert.equal(hubUrlFor('https://example.org:8443/a/b/index.html?x=1#top'),
    'wss://example.org:8443/a/b/connection');
  // Without the trailing slash, /talk is a page in /, as relative URLs in the page would see it.
  assert.equal(hubUrlFor('http://h/talk'), 'ws://h/connection');
  assert.equal(hubUrlFor('http://[::1]:9000/x/'), 'ws://[::1]:9000/x/connection');
});

test('a page opened as a file has no hub', () => {
  assert.equal(hubUrlFor('file:///work/main/web/index.html'), null);
});

test('publications render once each, in offset order, and count per kind', () => {
  const state = createState();
  const a = acceptPublication(state, pub(1, 'tomato', undefined, true));
  assert.deepEqual(a, { seq: 1, kind: 'tomato', text: '', known: true, replayed: true });
  const b = acceptPublication(state, pub(2, 'cat', 'meow'));
  assert.deepEqual(b, { seq: 2, kind: 'cat', text: 'meow', known: true, replayed: false });
  assert.equal(acceptPublication(state, pub(2, 'cat')), null, 'the same offset again');
  assert.equal(acceptPublication(state, pub(1, 'egg')), null, 'an older offset');
  assert.ok(acceptPublication(state, pub(5, 'egg')), 'a gap is drawn (the hub trimmed it)');
  assert.deepEqual(state.counts, { tomato: 1, cat: 1, egg: 1 });
  assert.equal(state.total, 3);
  assert.equal(state.lastSeq, 5);
});

test('clearing the state starts over: the same offsets render again', () => {
  const state = createState();
  acceptPublication(state, pub(1));
  acceptPublication(state, pub(2, 'egg'));
  clearState(state);
  assert.deepEqual(state, createState());
  assert.ok(acceptPublication(state, pub(1)));
  assert.deepEqual(state.counts, { tomato: 1 });
});

test('unknown kinds are kept and counted, marked as having no picture', () => {
  const state = createState();
  const item = acceptPublication(state, pub(1, 'banana'));
  assert.equal(item.kind, 'banana');
  assert.equal(item.known, false);
  assert.equal(acceptPublication(state, pub(2, 'tomato')).known, true);
  assert.deepEqual(state.counts, { banana: 1, tomato: 1 });
});

test('malformed publications are ignored without touching the state', () => {
  const state = createState();
  for (const p of [null, 42, {}, { offset: '1', data: { kind: 'cat' } }, { offset: 0, data: { kind: 'cat' } },
    { offset: 1.5, data: { kind: 'cat' } }, { offset: 1, data: null }, { offset: 1, data: 'cat' },
    { offset: 1, data: { kind: '' } }, { offset: 1, data: { kind: 7 } },
    { offset: 1, data: { kind: 'x'.repeat(65) } }]) {
    assert.equal(acceptPublication(state, p), null, JSON.stringify(p));
  }
  assert.deepEqual(state, createState());
  assert.equal(acceptPublication(state, { offset: 1, data: { kind: 'cat', text: 5 } }).text, '');
});

test('throw data: the documented JSON, text trimmed and limited to 64 code points', () => {
  assert.deepEqual(throwData('tomato'), { data: { kind: 'tomato' } });
  assert.deepEqual(throwData('egg', '  boo  '), { data: { kind: 'egg', text: 'boo' } });
  assert.deepEqual(throwData('egg', '   '), { data: { kind: 'egg' } });
  assert.equal(MAX_TEXT_CHARS, 64);
  assert.ok(throwData('cat', 'x'.repeat(64)).data);
  assert.deepEqual(throwData('cat', 'x'.repeat(65)), { error: 'bad_text' });
  // 64 emoji are 128 UTF-16 units but 64 code points: allowed.
  assert.ok(throwData('cat', '🍅'.repeat(64)).data);
  assert.deepEqual(throwData(''), { error: 'bad_kind' });
});

test('a refusal shows the hub\'s own words, or words for people in place of a bare code', () => {
  // The page's words, never the server's (written for developers, and free to change).
  const server = 'at most 10 publications per second in demo:*';
  assert.match(refusalText({ code: 'rate_limited', reason: server }), /^Easy there!/);
  assert.doesNotMatch(refusalText({ code: 'rate_limited', reason: server }), /publications/);
  assert.match(refusalText({ code: 'unavailable', reason: 'disk I/O error' }), /cannot catch/);
  assert.match(refusalText({ code: 'bad_request', reason: '"kind" must be' }), /that kind/);
  assert.match(refusalText({ code: 'something_new', reason: 'internal words' }), /did not go/);
  assert.equal(typeof refusalText(undefined), 'string');
});

test('landing spots are deterministic per seq and inside the target', () => {
  const seen = new Set();
  for (let seq = 1; seq <= 2000; seq++) {
    const a = landingSpot(seq);
    assert.deepEqual(a, landingSpot(seq));
    assert.ok(a.x >= 10 && a.x <= 90 && a.y >= 8 && a.y <= 88, JSON.stringify(a));
    assert.ok(a.tilt >= -30 && a.tilt <= 30);
    seen.add(`${Math.round(a.x / 10)},${Math.round(a.y / 10)}`);
  }
  assert.ok(seen.size > 40, 'spots spread over the target');
  const big = landingSpot(2 ** 40 + 3);
  assert.ok(big.x >= 10 && big.x <= 90);
});

test('the page knows the four kinds of the talk, its channel and how much history it asks for', () => {
  assert.deepEqual([...KNOWN_KINDS], ['tomato', 'candy', 'egg', 'cat']);
  assert.equal(DEMO_CHANNEL, 'demo:throws');
  assert.equal(HISTORY_LIMIT, 10000);
});

test('the heckle count is what the server counts: code points, trimmed', () => {
  assert.deepEqual(heckleCount(''), { used: 0, over: false, label: `0/${MAX_TEXT_CHARS}` });
  assert.deepEqual(heckleCount('  Boo!  '), { used: 4, over: false, label: `4/${MAX_TEXT_CHARS}` });
  assert.equal(heckleCount('🍅'.repeat(64)).used, 64);  // 128 UTF-16 units, 64 characters
  assert.equal(heckleCount('🍅'.repeat(64)).over, false);
  assert.equal(heckleCount('x'.repeat(65)).over, true);
  // The count and throwData agree on where the limit is.
  assert.equal(throwData('tomato', 'x'.repeat(64)).error, undefined);
  assert.equal(throwData('tomato', 'x'.repeat(65)).error, 'bad_text');
});

test('heckle bubbles are placed inside the stage and never on one another', () => {
  const bounds = { left: 0, top: 0, width: 600, height: 400 };
  const size = { width: 150, height: 28 };
  const counters = { left: 200, top: 40, width: 200, height: 40 };
  const overlap = (a, b) => a.left < b.left + b.width && b.left < a.left + a.width &&
    a.top < b.top + b.height && b.top < a.top + a.height;
  // Many heckles landing on the very same spot: each finds its own place.
  const taken = [counters];
  for (let i = 0; i < 12; i++) {
    const rect = placeBubble({ x: 300, y: 200 }, size, bounds, taken);
    assert.ok(rect, `bubble ${i} found a place`);
    assert.ok(rect.left >= 0 && rect.top >= 0 && rect.left + rect.width <= 600 &&
      rect.top + rect.height <= 400, JSON.stringify(rect));
    for (const other of taken) assert.ok(!overlap(rect, other), `${i} overlaps`);
    taken.push(rect);
  }
  // The first sits right above its throw; near an edge it stays inside.
  assert.deepEqual(placeBubble({ x: 300, y: 200 }, size, bounds, []),
    { left: 225, top: 168, width: 150, height: 28 });
  const edge = placeBubble({ x: 5, y: 5 }, size, bounds, []);
  assert.deepEqual([edge.left, edge.top], [0, 0]);
  // No room at all: null, and the page takes down its oldest bubble.
  assert.equal(placeBubble({ x: 10, y: 10 }, size, { left: 0, top: 0, width: 100, height: 20 }, []),
    null);
  assert.equal(placeBubble({ x: 300, y: 200 }, size, bounds, [bounds]), null);
});
