// duplex.js: the reference client of duplexd's hub protocol (docs/protocol.md). An ES module with
// no dependencies, for browsers and Node 20+ (pass `WebSocket` from the `ws` package where there
// is no global one).
//
//   import { DuplexClient } from './duplex.js';
//   const hub = new DuplexClient('ws://127.0.0.1:8080/connection', { token });
//   await hub.connect();
//   await hub.subscribe('talk:main', (pub) => show(pub.data), {
//     onRecoveryFailed: () => reloadFromHistory(),
//   });
//   const { offset } = await hub.publish('talk:main', { text: 'hi' });
//
// What it promises the application: publications reach the callback in offset order, each once;
// after a reconnect every channel is resubscribed from the last offset seen, and when the server
// cannot recover (history trimmed, epoch changed) the application is told instead of silently
// missing messages; a publish is acknowledged once and stored once, however often the
// connection drops before its acknowledgement (its idempotency key travels with every retry).

// Close codes after which reconnecting cannot help (docs/protocol.md, Pushes).
const FINAL_CLOSE_CODES = new Set([4001, 4003]);
const TOKEN_EXPIRED_CLOSE = 4002;

// An error reply of the hub, or a local failure (`disconnected`, `closed`, `timeout`).
export class DuplexError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'DuplexError';
    this.code = code;
    this.reason = message; // the hub's words, for people (the code is for programs)
  }
}

function randomId() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class DuplexClient {
  // options: WebSocket (constructor; default globalThis.WebSocket), token (string, or a function
  // returning one or a Promise of one, called before every connect so a refreshed token is
  // used), minDelayMs / maxDelayMs (reconnect backoff, default 200 / 10000), timeoutMs (replies
  // to subscribe/history/presence/ping, default 10000), clientId (prefix of idempotency keys).
  constructor(url, options = {}) {
    this.url = url;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!this.WebSocket) throw new Error('duplex.js: no WebSocket implementation; pass one');
    this.token = options.token ?? '';
    this.minDelayMs = options.minDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 10000;
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.clientId = options.clientId ?? randomId();
    this.state = 'disconnected'; // disconnected | connecting | connected | closed
    this.info = null; // the connect result: {client, user, expires}
    this._ws = null;
    this._nextId = 1;
    this._keyCounter = 0;
    this._seq = 0; // publish order, kept by retries
    this._attempt = 0;
    this._timer = null;
    this._inflight = new Map(); // id -> {resolve, reject, timer, onReply?}
    this._outbox = new Map(); // key -> unacknowledged publish {channel, data, key, resolve, reject}
    this._subs = new Map(); // channel -> subscription state
    this._listeners = new Map();
    this._connectWaiters = [];
  }

  // Events: state ({state}), connect (the connect result), disconnect ({code, reason}),
  // publication ({channel, offset, data, replayed?}, every channel, personal ones too), join / leave
  // ({channel, client, user}), recoveryFailed ({channel, epoch, offset}), error (DuplexError).
  // Returns a function that removes the listener.
  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return () => this._listeners.get(event)?.delete(fn);
  }

  _emit(event, value) {
    for (const fn of this._listeners.get(event) ?? []) {
      try {
        fn(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit('state', { state });
  }

  // Resolves with the connect result once connected; rejects when the server refuses the token
  // (no retry can help then) or close() is called first. A server that is down is retried.
  connect() {
    if (this.state === 'connected') return Promise.resolve(this.info);
    const waiter = new Promise((resolve, reject) => this._connectWaiters.push({ resolve, reject }));
    if (this.state === 'disconnected' || this.state === 'closed') {
      this._setState('connecting');
      this._open();
    }
    return waiter;
  }

  close() {
    this._setState('closed');
    clearTimeout(this._timer);
    const ws = this._ws;
    this._ws = null;
    if (ws) ws.close(1000);
    this._fail(new DuplexError('closed', 'the client was closed'), true);
  }

  // Resolves with the subscribe result ({epoch, offset, ...}); the subscription then lives across
  // reconnects until unsubscribe(). options: onRecoveryFailed({channel, epoch, offset}), onJoin,
  // onLeave, since ({offset, epoch}: start by recovering from there), last (N: start with the
  // newest N stored publications, delivered to onPublication before any live one; when a later
  // recovery fails, the client says so with recoveryFailed and starts over the same way, so the
  // application clears what it shows there and gets the newest N again).
  subscribe(channel, onPublication, options = {}) {
    if (this.state === 'closed') {
      return Promise.reject(new DuplexError('closed', 'the client is closed; connect() again'));
    }
    if (this._subs.has(channel)) {
      return Promise.reject(new DuplexError('already_subscribed', `already subscribed to ${channel}`));
    }
    return new Promise((resolve, reject) => {
      const sub = {
        channel,
        onPublication,
        options,
        offset: options.since?.offset ?? null,
        epoch: options.since?.epoch ?? null,
        pending: true, // a subscribe is in flight: pushes wait in `buffer`
        buffer: [],
        resolve,
        reject,
      };
      this._subs.set(channel, sub);
      if (this.state === 'connected') this._sendSubscribe(sub);
    });
  }

  async unsubscribe(channel) {
    const sub = this._subs.get(channel);
    if (!sub) throw new DuplexError('not_subscribed', `not subscribed to ${channel}`);
    this._subs.delete(channel);
    sub.reject?.(new DuplexError('closed', 'unsubscribed'));
    if (this.state === 'connected') return this._command({ unsubscribe: { channel } });
    return {};
  }

  // Resolves with {offset, epoch} once the hub has stored the publication; rejects with a
  // DuplexError carrying the protocol code. Unacknowledged publishes survive reconnects.
  publish(channel, data, options = {}) {
    if (this.state === 'closed') {
      return Promise.reject(new DuplexError('closed', 'the client is closed; connect() again'));
    }
    const key = options.key ?? `${this.clientId}-${++this._keyCounter}`;
    return new Promise((resolve, reject) => {
      const entry = { channel, data, key, seq: ++this._seq, resolve, reject };
      this._outbox.set(key, entry);
      if (this.state === 'connected') this._sendPublish(entry);
    });
  }

  history(channel, { since, limit } = {}) {
    const body = { channel };
    if (since) body.since = since;
    if (limit) body.limit = limit;
    return this._command({ history: body });
  }

  presence(channel) {
    return this._command({ presence: { channel } });
  }

  ping() {
    return this._command({ ping: {} });
  }

  // A call the server's back end answers (docs/protocol.md, rpc): resolves with its `data`.
  async rpc(method, data) {
    const body = { method };
    if (data !== undefined) body.data = data;
    return (await this._command({ rpc: body })).data;
  }

  // One command on the current connection; fails with `disconnected` if it drops first.
  _command(body, { timeout = true } = {}) {
    if (this.state !== 'connected' && !body.connect) {
      return Promise.reject(new DuplexError('disconnected', 'not connected'));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, timer: null };
      if (timeout) {
        entry.timer = setTimeout(() => {
          this._inflight.delete(id);
          reject(new DuplexError('timeout', `no reply in ${this.timeoutMs} ms`));
        }, this.timeoutMs);
      }
      this._inflight.set(id, entry);
      this._ws.send(JSON.stringify({ id, ...body }));
    });
  }

  async _open() {
    let token = this.token;
    try {
      if (typeof token === 'function') token = (await token()) ?? '';
    } catch (err) {
      return this._refuse(new DuplexError('unauthorized', `token refresh failed: ${err.message}`));
    }
    if (this.state !== 'connecting') return;
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch (err) {
      return this._scheduleReconnect();
    }
    this._ws = ws;
    this._closeInfo = null;
    ws.onopen = () => this._onOpen(ws, token);
    ws.onmessage = (event) => {
      if (ws === this._ws) this._onMessage(event.data);
    };
    ws.onerror = () => {}; // onclose follows and decides
    ws.onclose = (event) => {
      if (ws === this._ws) this._onClose(event.code, event.reason);
    };
  }

  async _onOpen(ws, token) {
    if (ws !== this._ws) return;
    let info;
    try {
      info = await this._command({ connect: token ? { token } : {} });
    } catch (err) {
      if (ws !== this._ws) return;
      if (err.code === 'disconnected' || err.code === 'timeout' || err.code === 'closed') {
        if (err.code === 'timeout') ws.close(1000);
        return; // onclose reconnects
      }
      // The server could not ask its back end (docs/protocol.md, Proxies): try again later.
      if (err.code === 'unavailable') {
        ws.close(1000);
        return;
      }
      if (err.code === 'token_expired' && typeof this.token === 'function') {
        ws.close(1000);
        return;
      }
      return this._refuse(err);
    }
    if (ws !== this._ws) return;
    this.info = info;
    this._attempt = 0;
    this._setState('connected');
    this._emit('connect', info);
    for (const w of this._connectWaiters.splice(0)) w.resolve(info);
    // Subscribes first, then the retried publishes: the hub answers in order, so recovered
    // publications of a channel arrive before the acknowledgements of retried publishes.
    for (const sub of this._subs.values()) this._sendSubscribe(sub);
    const entries = [...this._outbox.values()].sort((a, b) => a.seq - b.seq);
    for (const entry of entries) this._sendPublish(entry);
  }

  // A refusal no retry can fix (bad token, forbidden): stop and tell every waiter.
  _refuse(err) {
    const ws = this._ws;
    this._ws = null;
    this._setState('closed');
    if (ws) ws.close(1000);
    this._emit('error', err);
    for (const w of this._connectWaiters.splice(0)) w.reject(err);
    this._fail(err, true);
  }

  // Rejects what waits on the connection; with `all`, unacknowledged publishes and pending
  // subscribes too (the client is closing for good).
  _fail(err, all) {
    for (const [id, entry] of this._inflight) {
      clearTimeout(entry.timer);
      entry.reject(err);
      this._inflight.delete(id);
    }
    if (!all) return;
    for (const entry of this._outbox.values()) entry.reject(err);
    this._outbox.clear();
    for (const sub of this._subs.values()) sub.reject?.(err);
    this._subs.clear();
    for (const w of this._connectWaiters.splice(0)) w.reject(err);
  }

  _onClose(code, reason) {
    this._ws = null;
    if (this.state === 'closed') return;
    const info = this._closeInfo ?? { code, reason };
    if (this.state === 'connected') this._emit('disconnect', info);
    this._fail(new DuplexError('disconnected', `connection closed (${info.code})`), false);
    for (const sub of this._subs.values()) {
      sub.pending = true;
      sub.buffer = [];
    }
    if (FINAL_CLOSE_CODES.has(info.code) ||
        (info.code === TOKEN_EXPIRED_CLOSE && typeof this.token !== 'function')) {
      return this._refuse(new DuplexError(info.code === 4003 ? 'disconnected' :
        info.code === TOKEN_EXPIRED_CLOSE ? 'token_expired' : 'unauthorized',
      info.reason || `closed with ${info.code}`));
    }
    this._scheduleReconnect();
  }

  // Full jitter over an exponentially growing, capped window: a crowd of clients that lost the
  // same server does not come back in lockstep.
  _scheduleReconnect() {
    this._setState('disconnected');
    const cap = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this._attempt);
    this._attempt = Math.min(this._attempt + 1, 30);
    const delay = cap / 2 + Math.random() * (cap / 2);
    clearTimeout(this._timer);
    this._timer = setTimeout(() => {
      if (this.state !== 'disconnected') return;
      this._setState('connecting');
      this._open();
    }, delay);
  }

  _sendSubscribe(sub) {
    sub.pending = true;
    sub.buffer = [];
    const body = { channel: sub.channel };
    // A hub older than the `last` option answered epoch "" for a channel subscribed while
    // still empty (and live pushes carry no epoch): then recovery asks for everything since
    // the start of the unnamed epoch, which the hub grants while its history starts at offset 1.
    if (sub.offset !== null) {
      body.since = sub.epoch ? { offset: sub.offset, epoch: sub.epoch } : { offset: 0, epoch: '' };
    } else if (sub.options.last) {
      body.last = sub.options.last;
    }
    sub.sentSince = Boolean(body.since);
    this._command({ subscribe: body }).then(
      (result) => this._onSubscribed(sub, result),
      (err) => {
        if (this._subs.get(sub.channel) !== sub) return;
        if (err.code === 'disconnected' || err.code === 'closed') return; // resent on reconnect
        if (this._refreshable(err)) return;
        if (err.code === 'timeout') {
          this._ws?.close(1000); // the reconnect resubscribes
          return;
        }
        this._subs.delete(sub.channel);
        this._emit('error', err);
        sub.reject?.(err);
      },
    );
  }

  _onSubscribed(sub, result) {
    if (this._subs.get(sub.channel) !== sub) return;
    if (sub.sentSince && result.recovered === false) {
      const lost = { channel: sub.channel, epoch: result.epoch, offset: result.offset };
      this._emit('recoveryFailed', lost);
      sub.options.onRecoveryFailed?.(lost);
      if (sub.options.last && this._subs.get(sub.channel) === sub && this.state === 'connected') {
        // Start over as on the first subscribe. The hub handles commands in order, so the
        // fresh subscribe's publications and the pushes after it connect without a gap.
        sub.offset = null;
        sub.epoch = null;
        this._command({ unsubscribe: { channel: sub.channel } }).catch(() => {});
        this._sendSubscribe(sub);
        return;
      }
      sub.offset = result.offset;
      sub.epoch = result.epoch;
    } else {
      // A first subscribe: what came before result.offset is not ours to deliver, except the
      // `last` publications the reply carries.
      if (!sub.sentSince) sub.offset = null;
      if (result.epoch) sub.epoch = result.epoch;
    }
    for (const pub of result.publications ?? []) this._deliver(sub, pub, true);
    // Recovered publications are all delivered: offsets above result.offset are live.
    if (sub.offset === null || result.offset > sub.offset) sub.offset = result.offset;
    sub.pending = false;
    for (const pub of sub.buffer.splice(0)) this._deliver(sub, pub);
    if (sub.resolve) {
      sub.resolve(result);
      sub.resolve = sub.reject = null;
    }
  }

  // Delivers in offset order, each offset once. Offsets are 0 only in channels without history,
  // where there is nothing to order or recover. `replayed` marks what a subscribe reply carried
  // (the `last` publications or a recovery) rather than a live push.
  _deliver(sub, pub, replayed = false) {
    if (pub.offset > 0) {
      if (sub.offset !== null && pub.offset <= sub.offset) return; // seen already
      if (sub.offset !== null && pub.offset > sub.offset + 1) {
        this._emit('gap', { channel: sub.channel, from: sub.offset + 1, to: pub.offset - 1 });
      }
      sub.offset = pub.offset;
    }
    const publication = { channel: sub.channel, offset: pub.offset, data: pub.data };
    if (replayed) publication.replayed = true;
    this._emit('publication', publication);
    try {
      sub.onPublication?.(publication);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  // The token ran out between two sweeps of the hub: with a token function, reconnect with a
  // fresh token and resend then, rather than failing the command.
  _refreshable(err) {
    if (err.code !== 'token_expired' || typeof this.token !== 'function') return false;
    if (this.state === 'connected') this._ws?.close(1000);
    return true;
  }

  _sendPublish(entry) {
    const body = { channel: entry.channel, data: entry.data, key: entry.key };
    this._command({ publish: body }, { timeout: false }).then(
      (result) => {
        this._outbox.delete(entry.key);
        entry.resolve(result);
      },
      (err) => {
        if (err.code === 'disconnected') return; // retried with the same key after reconnect
        if (this._refreshable(err)) return;
        if (!this._outbox.has(entry.key)) return;
        this._outbox.delete(entry.key);
        entry.reject(err);
      },
    );
  }

  _onMessage(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.push) return this._onPush(msg.push);
    const entry = this._inflight.get(msg.id);
    if (!entry) {
      if (msg.error) this._emit('error', new DuplexError(msg.error.code, msg.error.message));
      return;
    }
    this._inflight.delete(msg.id);
    clearTimeout(entry.timer);
    if (msg.error) entry.reject(new DuplexError(msg.error.code, msg.error.message));
    else entry.resolve(msg.result ?? {});
  }

  _onPush(push) {
    if (push.disconnect) {
      this._closeInfo = { code: push.disconnect.code, reason: push.disconnect.reason };
      return;
    }
    const sub = this._subs.get(push.channel);
    if (push.pub) {
      if (!sub) {
        // A personal channel (#user) or one being unsubscribed: no order to keep.
        this._emit('publication', { channel: push.channel, ...push.pub });
        return;
      }
      if (sub.pending) sub.buffer.push(push.pub);
      else this._deliver(sub, push.pub);
    } else if (push.join || push.leave) {
      const kind = push.join ? 'join' : 'leave';
      const event = { channel: push.channel, ...(push.join ?? push.leave) };
      this._emit(kind, event);
      if (sub) (kind === 'join' ? sub.options.onJoin : sub.options.onLeave)?.(event);
    }
  }
}
