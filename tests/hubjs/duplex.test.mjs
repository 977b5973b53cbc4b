// web/duplex.js against a real duplexd (the binary in $DUPLEXD; ctest sets it), with the `ws`
// package as its WebSocket: acknowledgements, error codes, tokens, idempotent retries, recovery
// across a crashed and restarted server, recovery refused after trimming, and the server API.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';

import { DuplexClient } from '../../web/duplex.js';
import { REPO, ServerProcess } from '../support/servers.mjs';

const SECRET = 'hubjs-test-secret';
const API_KEY = 'hubjs-test-api-key';
// duplexd reads its secrets from the environment it inherits from this process.
process.env.DUPLEX_TOKEN_SECRET = SECRET;
process.env.DUPLEX_API_KEY = API_KEY;

// Generous for an ASan duplexd on a busy two-core machine, but bounded.
const WAIT_MS = 15000;
const CONFIG = {
  namespaces: {
    talk: { history_size: 1000, presence: true },
    news: { history_size: 10, publish: 'server' },
    private: { history_size: 100, anonymous: false, grant_required: true },
    small: { history_size: 5 },
  },
};

const scratch = mkdtempSync(path.join(os.tmpdir(), 'duplex-hubjs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(scratch, `data-${++dirs}`);
const configFile = path.join(scratch, 'hub.json');
writeFileSync(configFile, JSON.stringify(CONFIG));

// DUPLEXD_THREADS=N (ctest's hub.loops4 run): duplexd on N loops; else its default (the cores).
const loopsFlag = () => (process.env.DUPLEXD_THREADS ? ['--threads', process.env.DUPLEXD_THREADS] : []);

async function startDuplexd(t, { dataDir = freshDir(), port = 0, stopAtEnd = true } = {}) {
  const command = process.env.DUPLEXD || path.join(REPO, 'build', 'release', 'apps', 'duplexd');
  const server = new ServerProcess([command, '--host', '127.0.0.1', '--port', String(port),
    '--data', dataDir, '--quiet', '--hub-config', configFile, ...loopsFlag()], 'duplexd');
  if (stopAtEnd) t.after(() => server.stopAndCheck());
  await server.ready();
  server.dataDir = dataDir;
  server.hub = `ws://127.0.0.1:${server.port}/connection`;
  server.http = `http://127.0.0.1:${server.port}`;
  return server;
}

function client(t, server, options = {}) {
  const c = new DuplexClient(server.hub, { WebSocket, minDelayMs: 30, maxDelayMs: 400, ...options });
  t.after(() => c.close());
  return c;
}

// A WebSocket whose network the test can cut: `cut()` drops every open socket (as a lost link
// does, no close handshake) and makes new ones fail until `restore()`.
function cuttableNetwork() {
  const net = { offline: false, sockets: new Set() };
  net.WebSocket = class extends WebSocket {
    constructor(url, ...rest) {
      super(net.offline ? 'ws://127.0.0.1:1/unreachable' : url, ...rest);
      net.sockets.add(this);
      this.addEventListener('close', () => net.sockets.delete(this));
    }
  };
  net.cut = () => {
    net.offline = true;
    for (const s of net.sockets) s.terminate();
  };
  net.restore = () => {
    net.offline = false;
  };
  return net;
}

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function mintToken(claims, { secret = SECRET, alg = 'HS256' } = {}) {
  const head = `${b64url({ alg, typ: 'JWT' })}.${b64url(claims)}`;
  if (alg === 'none') return `${head}.`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);

// Polls a condition until it holds or WAIT_MS passes (then fails, saying what it waited for).
async function waitFor(what, predicate) {
  const deadline = Date.now() + WAIT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return true;
  });
}

async function api(server, endpoint, body, key = API_KEY) {
  const headers = { 'Content-Type': 'application/json' };
  if (key !== null) headers['X-API-Key'] = key;
  const res = await fetch(`${server.http}/api/${endpoint}`, {
    method: 'POST', headers, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('duplex.js against duplexd', { timeout: 90000 }, () => {
  it('acknowledges publishes with their offsets and delivers them in order', async (t) => {
    const server = await startDuplexd(t);
    const sub = client(t, server);
    const pub = client(t, server);
    await Promise.all([sub.connect(), pub.connect()]);
    const seen = [];
    const first = await sub.subscribe('talk:ack', (p) => seen.push(p));
    assert.equal(first.offset, 0);
    // An empty channel already has its epoch: the subscribe drew it.
    assert.match(first.epoch, /^[0-9a-f]{16}$/);
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await pub.publish('talk:ack', { n: i }));
    assert.deepEqual(acks.map((a) => a.offset), [1, 2, 3, 4, 5]);
    for (const a of acks) assert.equal(a.epoch, first.epoch);
    await waitFor('5 publications', () => seen.length >= 5);
    assert.deepEqual(seen.map((p) => [p.offset, p.data.n]), [[1, 0], [2, 1], [3, 2], [4, 3], [5, 4]]);

    const history = await pub.history('talk:ack', { limit: 2 });
    assert.deepEqual(history.publications.map((p) => p.data.n), [3, 4]);
    const presence = await pub.presence('talk:ack');
    assert.deepEqual(Object.keys(presence.clients), [sub.info.client]);
    await sub.unsubscribe('talk:ack');
    await rejectsWith(sub.unsubscribe('talk:ack'), 'not_subscribed');
  });

  it('rejects with the protocol error codes', async (t) => {
    const server = await startDuplexd(t);
    const anon = client(t, server);
    await anon.connect();
    await rejectsWith(anon.publish('nowhere:x', 1), 'not_found');
    await rejectsWith(anon.subscribe('nowhere:x', () => {}), 'not_found');
    await rejectsWith(anon.publish('news:x', 1), 'forbidden');
    await rejectsWith(anon.subscribe('private:alice', () => {}), 'unauthorized');
    await rejectsWith(anon.publish('talk:big', 'x'.repeat(20000)), 'too_large');
    // The connection survives every refusal.
    assert.deepEqual(await anon.ping(), {});
    assert.equal(anon.state, 'connected');

    const alice = client(t, server, {
      token: mintToken({ sub: 'alice', exp: now() + 600, channels: ['private:alice'] }),
    });
    assert.equal((await alice.connect()).user, 'alice');
    assert.equal((await alice.subscribe('private:alice', () => {})).offset, 0);
    await rejectsWith(alice.subscribe('private:bob', () => {}), 'forbidden');
    await rejectsWith(alice.subscribe('#bob', () => {}), 'forbidden');
    assert.equal((await alice.publish('private:alice', { hi: 1 })).offset, 1);

    const refused = [
      [mintToken({ sub: 'eve', exp: now() + 600 }, { secret: 'not-the-secret' }), 'unauthorized'],
      [mintToken({ sub: 'eve', exp: now() + 600 }, { alg: 'none' }), 'unauthorized'],
      ['not.a.token', 'unauthorized'],
      [mintToken({ sub: 'eve', exp: now() - 10, channels: ['private:eve'] }), 'token_expired'],
    ];
    for (const [token, code] of refused) {
      const eve = client(t, server, { token });
      const errors = [];
      eve.on('error', (e) => errors.push(e.code));
      await rejectsWith(eve.connect(), code);
      assert.equal(eve.state, 'closed', 'a refused token is not retried');
      assert.deepEqual(errors, [code]);
    }
  });

  it('stores and delivers a publish retried with the same key once', async (t) => {
    const server = await startDuplexd(t);
    const sub = client(t, server);
    const pub = client(t, server);
    await Promise.all([sub.connect(), pub.connect()]);
    const seen = [];
    await sub.subscribe('talk:idem', (p) => seen.push(p.data));
    const a = await pub.publish('talk:idem', 'once', { key: 'k-1' });
    const b = await pub.publish('talk:idem', 'once', { key: 'k-1' });
    assert.deepEqual(b, a);
    const c = await pub.publish('talk:idem', 'after');
    assert.equal(c.offset, a.offset + 1, 'the retry stored nothing');
    await waitFor('the publish after the retry', () => seen.includes('after'));
    assert.deepEqual(seen, ['once', 'after']);
  });

  it('retries an unacknowledged publish after a cut with its key, stored once', async (t) => {
    const server = await startDuplexd(t);
    const net = cuttableNetwork();
    const sub = client(t, server);
    const pub = client(t, server, { WebSocket: net.WebSocket });
    await Promise.all([sub.connect(), pub.connect()]);
    const seen = [];
    await sub.subscribe('talk:cut', (p) => seen.push(p.data));
    // Sent and cut at once: the publish may or may not have reached the hub; either way the
    // retry after the cut must leave exactly one copy.
    const acks = [pub.publish('talk:cut', 'a'), pub.publish('talk:cut', 'b')];
    net.cut();
    acks.push(pub.publish('talk:cut', 'c'));
    net.restore();
    const results = await Promise.all(acks);
    assert.deepEqual(results.map((r) => r.offset), [1, 2, 3]);
    await waitFor('3 publications', () => seen.length >= 3);
    const last = await pub.publish('talk:cut', 'end');
    assert.equal(last.offset, 4);
    await waitFor('the end', () => seen.includes('end'));
    assert.deepEqual(seen, ['a', 'b', 'c', 'end']);
  });

  it('recovers every publication once, in order, across a killed and restarted server', async (t) => {
    let server = await startDuplexd(t, { stopAtEnd: false });
    const dataDir = server.dataDir;
    const port = server.port;
    const sub = client(t, server);
    const pub = client(t, server);
    await Promise.all([sub.connect(), pub.connect()]);
    const seen = [];
    const lost = [];
    await sub.subscribe('talk:crash', (p) => seen.push(p), { onRecoveryFailed: (l) => lost.push(l) });
    const reconnects = [];
    sub.on('connect', (info) => reconnects.push(info.client));

    const N = 60;
    const acks = [];
    for (let i = 0; i < N; i++) {
      acks.push(pub.publish('talk:crash', { n: i }));
      if (i === 20) {
        await acks[19]; // mid-stream: some acknowledged, some in flight, some not yet sent
        server.child.kill('SIGKILL');
        await server.exited;
        server = await startDuplexd(t, { dataDir, port });
      }
    }
    const results = await Promise.all(acks);
    assert.deepEqual(results.map((r) => r.offset), Array.from({ length: N }, (_, i) => i + 1));
    await waitFor(`${N} publications`, () => seen.length >= N);
    assert.deepEqual(seen.map((p) => p.data.n), Array.from({ length: N }, (_, i) => i));
    assert.deepEqual(seen.map((p) => p.offset), Array.from({ length: N }, (_, i) => i + 1));
    assert.deepEqual(lost, []);
    assert.ok(reconnects.length >= 1, 'the subscriber reconnected');
  });

  it('reports recovery refused after the history was trimmed, and recovers within it', async (t) => {
    const server = await startDuplexd(t);
    const net = cuttableNetwork();
    const sub = client(t, server, { WebSocket: net.WebSocket });
    const pub = client(t, server);
    await Promise.all([sub.connect(), pub.connect()]);
    const seen = [];
    const lost = [];
    const events = [];
    sub.on('recoveryFailed', (l) => events.push(l));
    await sub.subscribe('small:t', (p) => seen.push(p.offset), { onRecoveryFailed: (l) => lost.push(l) });
    await pub.publish('small:t', 0);
    await waitFor('the first publication', () => seen.length === 1);

    // Within the history: recovered, nothing lost, nothing twice.
    net.cut();
    for (let i = 0; i < 3; i++) await pub.publish('small:t', i);
    let connected = 0;
    sub.on('connect', () => connected++);
    net.restore();
    await waitFor('the recovered publications', () => seen.length === 4);
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(lost, []);

    // Beyond it: 20 while away, 5 kept -> recovered:false, reported, then live again.
    net.cut();
    for (let i = 0; i < 20; i++) await pub.publish('small:t', i);
    net.restore();
    await waitFor('the refused recovery', () => lost.length === 1);
    assert.deepEqual(lost.map((l) => [l.channel, l.offset]), [['small:t', 24]]);
    assert.deepEqual(events, lost, 'the event and the callback both tell');
    assert.deepEqual(seen, [1, 2, 3, 4], 'nothing delivered from a history with a hole');
    assert.ok(connected >= 2);
    await pub.publish('small:t', 'live');
    await waitFor('the live publication', () => seen.length === 5);
    assert.equal(seen[4], 25);
  });

  it('starts with the newest publications (`last`), and starts over with them when recovery is refused',
    async (t) => {
      const server = await startDuplexd(t);
      const net = cuttableNetwork();
      const sub = client(t, server, { WebSocket: net.WebSocket });
      const pub = client(t, server);
      await Promise.all([sub.connect(), pub.connect()]);
      for (let i = 1; i <= 8; i++) await pub.publish('small:last', { n: i });
      // What the application sees, in order: publications and a marker where it must clear.
      const log = [];
      const result = await sub.subscribe('small:last',
        (p) => log.push(p.replayed ? `replayed ${p.offset}` : `live ${p.offset}`),
        { last: 3, onRecoveryFailed: (l) => log.push(`lost at ${l.offset}`) });
      assert.equal(result.offset, 8);
      assert.match(result.epoch, /^[0-9a-f]{16}$/);
      assert.deepEqual(log, ['replayed 6', 'replayed 7', 'replayed 8'], 'delivered before the reply');
      await pub.publish('small:last', { n: 9 });
      await waitFor('the live publication', () => log.length === 4);
      assert.equal(log[3], 'live 9');

      // Away for longer than the history reaches: recovery is refused, the client says so and
      // starts over with the newest 3, then live again; nothing twice, nothing out of order.
      net.cut();
      for (let i = 10; i <= 29; i++) await pub.publish('small:last', { n: i });
      net.restore();
      await waitFor('the fresh start', () => log.length === 8);
      assert.deepEqual(log.slice(4), ['lost at 29', 'replayed 27', 'replayed 28', 'replayed 29']);
      await pub.publish('small:last', { n: 30 });
      await waitFor('live again', () => log.length === 9);
      assert.equal(log[8], 'live 30');

      // Fewer stored than asked for: all of them.
      await pub.publish('small:few', 'a');
      const few = [];
      await pub.subscribe('small:few', (p) => few.push(p.data), { last: 100 });
      assert.deepEqual(few, ['a']);
    });

  it('serves the server API only with the key', async (t) => {
    const server = await startDuplexd(t);
    const sub = client(t, server);
    await sub.connect();
    const seen = [];
    await sub.subscribe('news:api', (p) => seen.push(p));

    const body = { channel: 'news:api', data: { text: 'from the back end' } };
    const none = await api(server, 'publish', body, null);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthorized');
    const wrong = await api(server, 'publish', body, 'wrong-key');
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'forbidden');

    const ok = await api(server, 'publish', body);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result.offset, 1);
    await waitFor('the API publication', () => seen.length === 1);
    assert.deepEqual(seen[0], { channel: 'news:api', offset: 1, data: body.data });

    const history = await api(server, 'history', { channel: 'news:api' });
    assert.equal(history.status, 200);
    assert.deepEqual(history.body.result.publications.map((p) => p.data), [body.data]);
    const missing = await api(server, 'publish', { channel: 'nowhere:x', data: 1 });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');
  });
  it('stops reconnecting when the server API disconnects the user (4003)', async (t) => {
    const server = await startDuplexd(t);
    const token = mintToken({ sub: 'alice', exp: now() + 600 });
    const alice = client(t, server, { token });
    const watcher = client(t, server);
    const states = [];
    const closes = [];
    alice.on('state', (e) => states.push(e.state));
    alice.on('disconnect', (e) => closes.push(e.code));
    await Promise.all([alice.connect(), watcher.connect()]);
    const joins = [];
    const leaves = [];
    await watcher.subscribe('talk:room', () => {}, {
      onJoin: (e) => joins.push(e.user), onLeave: (e) => leaves.push(e.user),
    });
    const personal = [];
    alice.on('publication', (p) => personal.push(p));
    await alice.subscribe('talk:room', () => {});
    await waitFor('alice joining', () => joins.includes('alice'));
    const sent = await api(server, 'publish', { channel: '#alice', data: { note: 'hi' } });
    assert.equal(sent.status, 200);
    await waitFor('the personal publication', () => personal.length === 1);
    assert.deepEqual(personal[0].channel, '#alice');
    assert.deepEqual(personal[0].data, { note: 'hi' });

    const res = await api(server, 'disconnect', { user: 'alice' });
    assert.deepEqual(res.body.result, { disconnected: 1 });
    await waitFor('alice closed', () => alice.state === 'closed');
    assert.deepEqual(closes, [4003]);
    assert.deepEqual(states, ['connecting', 'connected', 'closed']);
    await waitFor('alice leaving', () => leaves.includes('alice'));
    await rejectsWith(alice.publish('talk:room', 1), 'closed');
  });
  it('reconnects with a refreshed token when the hub expires the connection (4002)', async (t) => {
    const server = await startDuplexd(t);
    const tokens = [];
    // The first token runs out within two seconds; every later one is good for ten minutes.
    const token = () => {
      const exp = tokens.length === 0 ? now() + 2 : now() + 600;
      tokens.push(exp);
      return mintToken({ sub: 'carol', exp });
    };
    const carol = client(t, server, { token });
    const pub = client(t, server);
    const closes = [];
    carol.on('disconnect', (e) => closes.push(e.code));
    assert.equal((await carol.connect()).expires, tokens[0]);
    await pub.connect();
    const seen = [];
    await carol.subscribe('talk:expiry', (p) => seen.push(p.offset));
    await pub.publish('talk:expiry', 'before');
    await waitFor('the disconnect', () => closes.length === 1);
    assert.deepEqual(closes, [4002]);
    const during = pub.publish('talk:expiry', 'during');
    const own = carol.publish('talk:expiry', 'mine');
    await waitFor('a refreshed connection', () => carol.state === 'connected' && carol.info.expires > tokens[0]);
    await Promise.all([during, own]);
    await waitFor('3 publications', () => seen.length === 3);
    assert.deepEqual(seen, [1, 2, 3]);
  });
});
