// The demo page's logic that needs no DOM and no socket: where the hub is, what a throw looks
// like on the wire, what each publication does to the page's state. app.js does the drawing
// and hands the connection to duplex.js; everything here is tested with `node --test web/`.
// How the page uses the hub: docs/demo-protocol.md.

/** The kinds the page has buttons and pictures for. The server may know more. */
export const KNOWN_KINDS = Object.freeze(['tomato', 'candy', 'egg', 'cat']);

/** The longest optional text a throw may carry, in Unicode code points (what the server counts). */
export const MAX_TEXT_CHARS = 64;

/** The hub channel every page subscribes to and throws on (duplexd's `demo` namespace). */
export const DEMO_CHANNEL = 'demo:throws';

/**
 * How many stored throws a page asks for when it (re)loads: everything duplexd keeps by default
 * (--history 10000), which is also the most one subscribe may replay.
 */
export const HISTORY_LIMIT = 10000;

/**
 * The hub's URL for a page URL: same host and port, ws: for http: and wss: for https:, and the
 * same path prefix (the page's directory), so the demo works behind a reverse proxy that mounts
 * it under /talk/ and over TLS. Returns null when the page was not served over HTTP (opened as
 * a file), since then there is no server to ask.
 *   http://host:8080/          -> ws://host:8080/connection
 *   https://example.org/talk/  -> wss://example.org/talk/connection
 *   https://example.org/talk/index.html?x=1 -> wss://example.org/talk/connection
 */
export function hubUrlFor(pageUrl) {
  const page = new URL(pageUrl);
  let scheme;
  if (page.protocol === 'http:') scheme = 'ws:';
  else if (page.protocol === 'https:') scheme = 'wss:';
  else return null;
  const prefix = page.pathname.slice(0, page.pathname.lastIndexOf('/') + 1);
  return `${scheme}//${page.host}${prefix}connection`;
}

/** A fresh page state: nothing seen. */
export function createState() {
  return {
    lastSeq: 0, // the highest offset rendered: nothing at or below it is drawn again
    counts: {}, // kind -> number of throws rendered
    total: 0,
  };
}

/** Forget everything (the hub could not recover what the page missed; it starts over). */
export function clearState(state) {
  state.lastSeq = 0;
  state.counts = {};
  state.total = 0;
}

/**
 * The data of a throw for `publish`, or an error code when the server would refuse it anyway:
 *   { data: { kind, text? } } | { error: 'bad_kind' | 'bad_text' }
 */
export function throwData(kind, text = '') {
  if (typeof kind !== 'string' || kind.length === 0) return { error: 'bad_kind' };
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if ([...trimmed].length > MAX_TEXT_CHARS) return { error: 'bad_text' };
  const data = { kind };
  if (trimmed) data.text = trimmed;
  return { data };
}

/**
 * Applies one publication of the demo channel ({offset, data, replayed?}, as duplex.js hands it
 * over) to `state`. Returns the item to draw, { seq, kind, text, known, replayed }, or null for a
 * publication already drawn or one a page cannot show (a page must survive a server it does not
 * trust). `known` is false for kinds without a picture; `replayed` for what the hub sent from
 * its history (first load, recovery) rather than live.
 */
export function acceptPublication(state, publication) {
  if (publication === null || typeof publication !== 'object') return null;
  const { offset, data } = publication;
  if (!Number.isSafeInteger(offset) || offset <= 0 || offset <= state.lastSeq) return null;
  if (data === null || typeof data !== 'object') return null;
  const { kind } = data;
  if (typeof kind !== 'string' || kind.length === 0 || kind.length > 64) return null;
  const text = typeof data.text === 'string' ? data.text : '';
  state.lastSeq = offset;
  state.counts[kind] = (state.counts[kind] ?? 0) + 1;
  state.total += 1;
  return { seq: offset, kind, text, known: KNOWN_KINDS.includes(kind),
    replayed: publication.replayed === true };
}

/**
 * The words to show for a refused throw (a DuplexError from publish): the page's own, chosen by
 * the error's code. The hub's message is written for developers (`at most 10 publications per
 * second in demo:*`) and may change; the code is what it promises to keep.
 */
export function refusalText(error) {
  switch (error?.code) {
    case 'rate_limited':
      return 'Easy there! Too many throws at once. Take a breath and throw again.';
    case 'too_large':
      return 'That throw is too big to reach the stage.';
    case 'bad_request':
      return 'The stage does not take that kind of throw.';
    case 'unavailable':
      return 'The stage cannot catch throws right now. Try again in a moment.';
    case 'unauthorized':
    case 'token_expired':
    case 'forbidden':
      return 'Throwing is closed for this talk.';
    default:
      return 'That throw did not go through. Try again?';
  }
}

/**
 * What the heckle box shows as you type: how many of the MAX_TEXT_CHARS characters the heckle
 * uses, counted as throwData and the server count them (code points, spaces around trimmed).
 */
export function heckleCount(text) {
  const used = [...(typeof text === 'string' ? text.trim() : '')].length;
  return { used, over: used > MAX_TEXT_CHARS, label: `${used}/${MAX_TEXT_CHARS}` };
}

/** How many heckle bubbles stay up at once: the newest ones, live or from history. */
export const HECKLES_SHOWN = 4;

function overlaps(a, b, gap) {
  return a.left < b.left + b.width + gap && b.left < a.left + a.width + gap &&
    a.top < b.top + b.height + gap && b.top < a.top + a.height + gap;
}

/**
 * Where a heckle bubble of `size` ({width, height}) goes: as close as it can be to just above
 * `anchor` ({x, y}: the top centre of the throw it belongs to), inside `bounds`, and at least
 * `gap` pixels clear of every rect in `taken` (the other bubbles, the counters). Rects are
 * {left, top, width, height}. Spots are tried on a grid around the anchor, nearest first; null
 * when none is free (the caller then takes down the oldest bubble and asks again).
 */
export function placeBubble(anchor, size, bounds, taken, gap = 4) {
  const fits = size.width <= bounds.width && size.height <= bounds.height;
  if (!fits) return null;
  const home = { left: anchor.x - size.width / 2, top: anchor.y - size.height - 4 };
  const stepX = size.width / 2 + gap;
  const stepY = size.height + gap;
  const reachX = Math.ceil(bounds.width / stepX);
  const reachY = Math.ceil(bounds.height / stepY);
  const spots = [];
  for (let j = -reachY; j <= reachY; j++) {
    for (let i = -reachX; i <= reachX; i++) {
      const left = Math.min(Math.max(home.left + i * stepX, bounds.left),
        bounds.left + bounds.width - size.width);
      const top = Math.min(Math.max(home.top + j * stepY, bounds.top),
        bounds.top + bounds.height - size.height);
      const distance = Math.hypot(left - home.left, (top - home.top) * 1.5);
      spots.push({ left, top, distance });
    }
  }
  spots.sort((a, b) => a.distance - b.distance);
  for (const { left, top } of spots) {
    const rect = { left, top, width: size.width, height: size.height };
    if (!taken.some((other) => overlaps(rect, other, gap))) return rect;
  }
  return null;
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
