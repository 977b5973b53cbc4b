// Tests of the page's logic: `node --test web/` (also run by ctest as web_demo_logic).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  KNOWN_KINDS,
  MAX_TEXT_CHARS,
  backoffDelay,
  beginConnection,
  createState,
  handleMessage,
  landingSpot,
  throwMessage,
  wsUrlFor,
} from './demo-logic.js';

const history = (epoch, items) => JSON.stringify({ type: 'history', epoch, items });
const item = (seq, kind = 'tomato', text = '') => ({ seq, kind, text, at: 1732470000000 + seq });
const live = (seq, kind = 'tomato', text = '') => JSON.stringify({ type: 'throw', ...item(seq, kind, text) });
const seqs = (items) => items.map((i) => i.seq);

test('WebSocket URL: scheme follows the page, host and port kept, path prefix kept', () => {
  assert.equal(wsUrlFor('http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/ws?since=0');
  assert.equal(wsUrlFor('http://127.0.0.1:8080'), 'ws://127.0.0.1:8080/ws?since=0');
  assert.equal(wsUrlFor('https://example.org/'), 'wss://example.org/ws?since=0');
  assert.equal(wsUrlFor('https://example.org/talk/'), 'wss://example.org/talk/ws?since=0');
  assert.equal(wsUrlFor('https://example.org:8443/a/b/index.html?x=1#top', 42),
    'wss://example.org:8443/a/b/ws?since=42');
  // Without the trailing slash, /talk is a page in /, as relative URLs in the page would see it.
  assert.equal(wsUrlFor('http://h/talk'), 'ws://h/ws?since=0');
  assert.equal(wsUrlFor('http://[::1]:9000/x/'), 'ws://[::1]:9000/x/ws?since=0');
});

test('WebSocket URL: since is a non-negative integer, and a file page has no server', () => {
  assert.equal(wsUrlFor('http://h/', 7), 'ws://h/ws?since=7');
  assert.equal(wsUrlFor('http://h/', -3), 'ws://h/ws?since=0');
  assert.equal(wsUrlFor('http://h/', 1.5), 'ws://h/ws?since=0');
  assert.equal(wsUrlFor('http://h/', NaN), 'ws://h/ws?since=0');
  assert.equal(wsUrlFor('file:///work/main/web/index.html'), null);
});

test('backoff grows exponentially, stays within [cap/2, cap], and never exceeds the maximum', () => {
  const opts = { baseMs: 500, maxMs: 15000 };
  for (let attempt = 0; attempt < 40; attempt++) {
    const cap = Math.min(15000, 500 * 2 ** attempt);
    const low = backoffDelay(attempt, { ...opts, random: () => 0 });
    const high = backoffDelay(attempt, { ...opts, random: () => 0.999999 });
    assert.equal(low, Math.round(cap / 2), `attempt ${attempt} low`);
    assert.ok(high <= cap && high >= cap - 1, `attempt ${attempt} high ${high}`);
    const any = backoffDelay(attempt, opts);
    assert.ok(any >= cap / 2 - 1 && any <= cap, `attempt ${attempt} random ${any}`);
  }
  assert.equal(backoffDelay(0, { random: () => 0 }), 250);
  assert.equal(backoffDelay(3, { random: () => 0 }), 2000);
  assert.equal(backoffDelay(1e9, { random: () => 0 }), 7500);
  assert.equal(backoffDelay(-5, { random: () => 0 }), 250);
});

test('backoff jitter spreads a crowd that reconnects at once', () => {
  const delays = new Set();
  for (let i = 0; i < 50; i++) delays.add(backoffDelay(5));
  assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
});

test('history then live throws render once each, in order, and count per kind', () => {
  const state = createState();
  assert.equal(beginConnection(state), 0);
  const h = handleMessage(state, history('e1', [item(1), item(2, 'cat'), item(3, 'egg', 'boo')]));
  assert.equal(h.type, 'history');
  assert.equal(h.reset, false);
  assert.deepEqual(seqs(h.items), [1, 2, 3]);
  assert.equal(h.items[2].text, 'boo');
  const t = handleMessage(state, live(4, 'candy', 'yum'));
  assert.equal(t.type, 'throw');
  assert.deepEqual({ ...t.item }, { seq: 4, kind: 'candy', text: 'yum', at: 1732470000004, known: true });
  assert.equal(state.lastSeq, 4);
  assert.deepEqual(state.counts, { tomato: 1, cat: 1, egg: 1, candy: 1 });
  assert.equal(state.total, 4);
});

test('a history split into several messages is one history', () => {
  const state = createState();
  beginConnection(state);
  const a = handleMessage(state, history('e1', [item(1), item(2)]));
  const b = handleMessage(state, history('e1', [item(3)]));
  assert.deepEqual([...seqs(a.items), ...seqs(b.items)], [1, 2, 3]);
  assert.equal(b.reset, false);
});

test('reconnect asks for since=lastSeq and never shows anything twice', () => {
  const state = createState();
  beginConnection(state);
  handleMessage(state, history('e1', [item(1), item(2)]));
  handleMessage(state, live(3));
  // The socket drops; the page reconnects. A server may resend what the page has.
  assert.equal(beginConnection(state), 3);
  const h = handleMessage(state, history('e1', [item(2), item(3), item(4, 'cat')]));
  assert.deepEqual(seqs(h.items), [4]);
  assert.equal(handleMessage(state, live(4, 'cat')).type, 'ignore');
  assert.equal(handleMessage(state, live(3)).type, 'ignore');
  assert.equal(handleMessage(state, live(5)).type, 'throw');
  assert.deepEqual(state.counts, { tomato: 4, cat: 1 });
});

test('a different epoch after reconnect clears the state and asks to resync from 0', () => {
  const state = createState();
  beginConnection(state);
  handleMessage(state, history('e1', [item(1), item(2), item(3)]));
  assert.equal(beginConnection(state), 3);
  const r = handleMessage(state, history('e2', [item(4)]));
  assert.equal(r.type, 'resync');
  assert.equal(state.lastSeq, 0);
  assert.deepEqual(state.counts, {});
  assert.equal(state.total, 0);
  // The next connection starts from 0 and takes the new history whole.
  assert.equal(beginConnection(state), 0);
  const h = handleMessage(state, history('e2', [item(1, 'egg'), item(4)]));
  assert.equal(h.type, 'history');
  assert.equal(h.reset, false);
  assert.deepEqual(seqs(h.items), [1, 4]);
  assert.deepEqual(state.counts, { egg: 1, tomato: 1 });
});

test('a different epoch on a connection that asked for everything is taken as is, with a reset', () => {
  const state = createState();
  beginConnection(state);
  handleMessage(state, history('e1', []));
  assert.equal(beginConnection(state), 0);
  const h = handleMessage(state, history('e2', [item(7, 'cat')]));
  assert.equal(h.type, 'history');
  assert.equal(h.reset, true);
  assert.deepEqual(seqs(h.items), [7]);
  assert.equal(state.epoch, 'e2');
});

test('unknown kinds are kept and counted, marked as having no picture', () => {
  const state = createState();
  beginConnection(state);
  const h = handleMessage(state, history('e1', [item(1, 'banana')]));
  assert.equal(h.items.length, 1);
  assert.equal(h.items[0].kind, 'banana');
  assert.equal(h.items[0].known, false);
  assert.equal(handleMessage(state, live(2, 'tomato')).item.known, true);
  assert.deepEqual(state.counts, { banana: 1, tomato: 1 });
});

test('server errors come back with their code and message', () => {
  const state = createState();
  const e = handleMessage(state, JSON.stringify({ type: 'error', code: 'rate_limited', message: 'Slow down!' }));
  assert.deepEqual(e, { type: 'error', code: 'rate_limited', message: 'Slow down!' });
  const bare = handleMessage(state, JSON.stringify({ type: 'error', code: 'unavailable' }));
  assert.equal(bare.message, 'unavailable');
  assert.equal(handleMessage(state, JSON.stringify({ type: 'error' })).code, 'unknown');
});

test('malformed messages and items are ignored without touching the state', () => {
  const state = createState();
  beginConnection(state);
  for (const data of ['not json', 'null', '42', '{"type":"party"}', '{"type":"history","items":[]}',
    '{"type":"history","epoch":"e","items":{}}', '{"type":"throw","seq":"1","kind":"cat"}',
    '{"type":"throw","seq":0,"kind":"cat"}', '{"type":"throw","seq":1.5,"kind":"cat"}',
    '{"type":"throw","seq":1,"kind":""}', '{"type":"throw","seq":1}']) {
    assert.equal(handleMessage(state, data).type, 'ignore', data);
  }
  assert.equal(state.lastSeq, 0);
  assert.equal(state.total, 0);
  const h = handleMessage(state, history('e1', [null, item(1), { seq: 2 }, item(3)]));
  assert.deepEqual(seqs(h.items), [1, 3]);
});

test('throw messages: the documented JSON, text trimmed and limited to 64 code points', () => {
  assert.deepEqual(JSON.parse(throwMessage('tomato').json), { type: 'throw', kind: 'tomato' });
  assert.deepEqual(JSON.parse(throwMessage('egg', '  boo  ').json), { type: 'throw', kind: 'egg', text: 'boo' });
  assert.equal(MAX_TEXT_CHARS, 64);
  assert.ok(throwMessage('cat', 'x'.repeat(64)).json);
  assert.deepEqual(throwMessage('cat', 'x'.repeat(65)), { error: 'bad_text' });
  // 64 emoji are 128 UTF-16 units but 64 code points: allowed.
  assert.ok(throwMessage('cat', '🍅'.repeat(64)).json);
  assert.deepEqual(throwMessage(''), { error: 'bad_kind' });
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

test('the page knows the four kinds of the talk', () => {
  assert.deepEqual([...KNOWN_KINDS], ['tomato', 'candy', 'egg', 'cat']);
});
