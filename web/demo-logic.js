// The demo page's logic that needs no DOM and no socket: where to connect, how long to wait
// before reconnecting, what each server message does to the page's state. app.js does the
// drawing and the I/O; everything here is tested with `node --test web/`.
// The wire protocol is described in docs/demo-protocol.md.

/** The kinds the page has buttons and pictures for. The server may know more. */
export const KNOWN_KINDS = Object.freeze(['tomato', 'candy', 'egg', 'cat']);

/** The longest optional text a throw may carry, in Unicode code points (what the server counts). */
export const MAX_TEXT_CHARS = 64;

/**
 * The WebSocket URL for a page URL: same host and port, ws: for http: and wss: for https:, and
 * the same path prefix (the page's directory), so the demo works behind a reverse proxy that
 * mounts it under /talk/ and over TLS. Returns null when the page was not served over HTTP
 * (opened as a file), since then there is no server to ask.
 *   http://host:8080/          -> ws://host:8080/ws?since=0
 *   https://example.org/talk/  -> wss://example.org/talk/ws?since=0
 *   https://example.org/talk/index.html?x=1 -> wss://example.org/talk/ws?since=0
 */
export function wsUrlFor(pageUrl, since = 0) {
  const page = new URL(pageUrl);
  let scheme;
  if (page.protocol === 'http:') scheme = 'ws:';
  else if (page.protocol === 'https:') scheme = 'wss:';
  else return null;
  const prefix = page.pathname.slice(0, page.pathname.lastIndexOf('/') + 1);
  const seq = Number.isSafeInteger(since) && since > 0 ? since : 0;
  return `${scheme}//${page.host}${prefix}ws?since=${seq}`;
}

/**
 * Milliseconds to wait before reconnect attempt number `attempt` (0 for the first retry).
 * Exponential, capped, with "equal jitter": a uniform pick in [cap/2, cap]. The jitter spreads
 * a room full of pages that lost the server at the same instant, so they do not all come back
 * in the same millisecond; the lower half keeps every wait at least baseMs/2.
 */
export function backoffDelay(attempt, { baseMs = 500, maxMs = 15000, random = Math.random } = {}) {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);  // 2**30 * base overflows any cap
  const cap = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** A fresh page state: nothing seen, no epoch yet. */
export function createState() {
  return {
    epoch: null,      // the server history's identity, from the first history message
    lastSeq: 0,       // the highest seq rendered; the next connection asks for since=lastSeq
    counts: {},       // kind -> number of items rendered
    total: 0,
    connectedSince: 0 // the since= the current connection asked for
  };
}

/** Forget everything (the server's history was reset). */
export function clearState(state) {
  state.epoch = null;
  state.lastSeq = 0;
  state.counts = {};
  state.total = 0;
}

/** Call when opening a connection: returns the since= to ask for, and remembers it. */
export function beginConnection(state) {
  state.connectedSince = state.lastSeq;
  return state.lastSeq;
}

/** A throw message for the server, or null with a reason when it would be refused anyway. */
export function throwMessage(kind, text = '') {
  if (typeof kind !== 'string' || kind.length === 0) return { error: 'bad_kind' };
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if ([...trimmed].length > MAX_TEXT_CHARS) return { error: 'bad_text' };
  const message = { type: 'throw', kind };
  if (trimmed) message.text = trimmed;
  return { json: JSON.stringify(message) };
}

// An item as the server sends it, checked: a page must survive a server it does not trust.
function validItem(raw) {
  if (raw === null || typeof raw !== 'object') return null;
  const { seq, kind } = raw;
  if (!Number.isSafeInteger(seq) || seq <= 0) return null;
  if (typeof kind !== 'string' || kind.length === 0 || kind.length > 64) return null;
  const text = typeof raw.text === 'string' ? raw.text : '';
  const at = Number.isFinite(raw.at) ? raw.at : 0;
  return { seq, kind, text, at, known: KNOWN_KINDS.includes(kind) };
}

// Dedupe by seq: the server sends items in seq order, so anything at or below lastSeq has been
// rendered already (a history that overlaps what the page saw before a reconnect, say). This
// needs one number, not a set that grows with the history.
function accept(state, raw) {
  const item = validItem(raw);
  if (!item || item.seq <= state.lastSeq) return null;
  state.lastSeq = item.seq;
  state.counts[item.kind] = (state.counts[item.kind] ?? 0) + 1;
  state.total += 1;
  return item;
}

/**
 * Applies one text message from the server to `state` and returns what the page should do:
 *   { type: 'history', items, reset }  items to show as already landed (may be empty); when
 *                                      reset is true, first clear everything shown before
 *   { type: 'throw', item }            one live item to fly in
 *   { type: 'resync' }                 the history was reset under us: state is cleared;
 *                                      close and reconnect (since=0 now)
 *   { type: 'error', code, message }   the server refused something; show the message
 *   { type: 'ignore', reason }         duplicates, malformed or unknown messages
 * Items carry { seq, kind, text, at, known } where known is false for kinds without a picture.
 */
export function handleMessage(state, data) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return { type: 'ignore', reason: 'not JSON' };
  }
  if (message === null || typeof message !== 'object') return { type: 'ignore', reason: 'not an object' };

  switch (message.type) {
    case 'history': {
      if (typeof message.epoch !== 'string' || !Array.isArray(message.items)) {
        return { type: 'ignore', reason: 'malformed history' };
      }
      let reset = false;
      if (state.epoch !== null && state.epoch !== message.epoch) {
        // A different history than the one the page holds (the server's store was reset). What
        // we asked for (items after our lastSeq) no longer means anything: start again from 0,
        // unless 0 is what this connection asked for, in which case this history is complete.
        const askedFromStart = state.connectedSince === 0;
        clearState(state);
        reset = true;
        if (!askedFromStart) {
          state.epoch = message.epoch;
          return { type: 'resync' };
        }
      }
      state.epoch = message.epoch;
      const items = [];
      for (const raw of message.items) {
        const item = accept(state, raw);
        if (item) items.push(item);
      }
      return { type: 'history', items, reset };
    }
    case 'throw': {
      const item = accept(state, message);
      return item ? { type: 'throw', item } : { type: 'ignore', reason: 'duplicate or malformed throw' };
    }
    case 'error': {
      const code = typeof message.code === 'string' ? message.code : 'unknown';
      const text = typeof message.message === 'string' && message.message ? message.message : code;
      return { type: 'error', code, message: text };
    }
    default:
      return { type: 'ignore', reason: `unknown type ${String(message.type)}` };
  }
}

/**
 * Where item `seq` lands on the speaker, in percent of the target area, with a tilt in degrees.
 * Derived from the seq alone, so every page shows the same pile in the same places.
 */
export function landingSpot(seq) {
  // A few rounds of an integer hash (xorshift-multiply), kept in 32 bits with Math.imul.
  let h = (seq >>> 0) ^ Math.floor(seq / 2 ** 32);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = (h ^ (h >>> 16)) >>> 0;
  const x = 10 + (h % 8001) / 100;          // 10% .. 90%
  const y = 8 + ((h >>> 13) % 8001) / 100;  // 8% .. 88%
  const tilt = ((h >>> 7) % 61) - 30;       // -30 .. 30 degrees
  return { x, y, tilt };
}
