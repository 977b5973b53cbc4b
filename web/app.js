// The tomato page: the drawing, and the hub connection through duplex.js (reconnect with
// backoff, recovery of what was missed, retried throws that are stored once). What each
// publication means is decided in demo-logic.js (tested without a browser); this file acts on it.
import { DuplexClient } from './duplex.js';
import {
  DEMO_CHANNEL,
  HECKLES_SHOWN,
  HISTORY_LIMIT,
  KNOWN_KINDS,
  MAX_TEXT_CHARS,
  acceptPublication,
  clearState,
  createState,
  heckleCount,
  hubUrlFor,
  landingSpot,
  placeBubble,
  refusalText,
  throwData,
} from './demo-logic.js';

// The DOM stays bounded however long the talk runs: counters keep counting, but only the newest
// MAX_LANDED objects stay on the speaker, and at most MAX_FLYING are in the air (a burst beyond
// that lands without the flight).
const MAX_LANDED = 60;
const MAX_FLYING = 40;
const ALERT_MS = 4000;

const state = createState();
const statusEl = document.getElementById('status');
const statusText = statusEl.querySelector('.status-text');
const stage = document.getElementById('stage');
const target = document.getElementById('target');
const heckles = document.getElementById('heckles');
const heckleCountEl = document.getElementById('heckle-count');
const speaker = document.getElementById('speaker');
const counters = document.getElementById('counters');
const textInput = document.getElementById('throw-text');
const alertEl = document.getElementById('alert');
const buttons = [...document.querySelectorAll('[data-throw]')];
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

let everConnected = false;
let alertTimer = 0;
let hitTimer = 0;
let historyBatch = [];  // replayed publications of this turn, drawn together
let lastKind = 'tomato';  // what Enter in the heckle box throws: the last kind thrown here

// ---- connection ----

function setStatus(stateName, text) {
  statusEl.dataset.state = stateName;
  statusText.textContent = text;
}

function setButtonsEnabled(enabled) {
  for (const button of buttons) button.disabled = !enabled;
}

function showConnectionState(hubState) {
  switch (hubState) {
    case 'connecting':
      setStatus(everConnected ? 'reconnecting' : 'connecting',
        everConnected ? 'Reconnecting…' : 'Connecting…');
      break;
    case 'connected':
      everConnected = true;
      setStatus('open', 'Live: throw away!');
      break;
    case 'disconnected':
      setStatus('reconnecting', 'Offline · reconnecting…');
      break;
    default:
      setStatus('closed', 'Disconnected: reload the page to try again');
  }
  setButtonsEnabled(hubState === 'connected');
}

// A first load asks for the newest HISTORY_LIMIT throws; a reconnect recovers exactly what was
// missed (duplex.js sends the last offset seen); when the hub cannot recover (history trimmed or
// reset meanwhile), the page clears and duplex.js starts over with the newest throws.
function start() {
  const url = hubUrlFor(window.location.href);
  if (!url) {
    setStatus('connecting', 'Open this page from the duplexd server to join');
    return null;
  }
  const hub = new DuplexClient(url, { minDelayMs: 500, maxDelayMs: 15000 });
  hub.on('state', ({ state: hubState }) => showConnectionState(hubState));
  hub.on('error', (err) => showAlert(refusalText(err)));
  hub.subscribe(DEMO_CHANNEL, onPublication, {
    last: HISTORY_LIMIT,
    onRecoveryFailed: () => {
      historyBatch = [];
      clearState(state);
      clearStage();
    },
  }).catch(() => {});  // a refused subscribe is shown through the 'error' event
  hub.connect().catch(() => {});  // so is a refused connection
  return hub;
}

// ---- what publications do ----

function onPublication(publication) {
  const item = acceptPublication(state, publication);
  if (!item) return;  // drawn already, or nothing a page can show
  if (item.replayed) {
    // A subscribe reply hands over up to HISTORY_LIMIT of these at once: draw them in one go.
    if (historyBatch.length === 0) queueMicrotask(flushHistory);
    historyBatch.push(item);
    return;
  }
  flushHistory();
  showThrow(item);
}

function flushHistory() {
  if (historyBatch.length === 0) return;
  const items = historyBatch;
  historyBatch = [];
  showHistory(items);
}

function showHistory(items) {
  const start = Math.max(0, items.length - MAX_LANDED);
  for (let i = start; i < items.length; i++) placeItem(items[i], 'history');
  trimLanded();
  updateCounters(items);
  // The newest heckles come back up, as the throws they came with do.
  const withText = items.filter((item) => item.text);
  for (const item of withText.slice(-HECKLES_SHOWN)) showHeckle(item);
}

function showThrow(item) {
  const flying = target.querySelectorAll('.thrown.flying').length;
  placeItem(item, flying < MAX_FLYING && !reducedMotion.matches ? 'fly' : 'land');
  trimLanded();
  updateCounters([item]);
}

function clearStage() {
  target.replaceChildren();
  heckles.replaceChildren();
  for (const el of counters.querySelectorAll('[data-count]')) el.textContent = '0';
  for (const el of counters.querySelectorAll('.counter.extra')) el.remove();
}

// ---- drawing ----

function iconFor(kind, landed) {
  if (!KNOWN_KINDS.includes(kind)) return '#icon-mystery';
  if (landed && (kind === 'tomato' || kind === 'egg')) return `#splat-${kind}`;
  return `#icon-${kind}`;
}

function svgIcon(href) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 64 64');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', href);
  svg.append(use);
  return svg;
}

// mode: 'fly' (a live throw, animated), 'land' (a live throw shown landed at once), 'history'.
function placeItem(item, mode) {
  const fly = mode === 'fly';
  const spot = landingSpot(item.seq);
  const el = document.createElement('div');
  el.className = 'thrown';
  el.dataset.kind = item.kind;
  el.dataset.seq = String(item.seq);
  el.style.left = `${spot.x}%`;
  el.style.top = `${spot.y}%`;
  el.style.setProperty('--tilt', `${spot.tilt}deg`);
  if (item.text) el.title = item.text;
  if (!item.known) el.title = item.text ? `${item.kind}: ${item.text}` : item.kind;

  const body = document.createElement('div');
  body.className = 'thrown-body';
  body.append(svgIcon(iconFor(item.kind, !fly)));
  el.append(body);

  if (fly) {
    // Thrown from somewhere in the audience: below the stage, left or right of the speaker.
    const side = Math.random() < 0.5 ? -1 : 1;
    el.style.setProperty('--dx', `${side * (220 + Math.random() * 380)}px`);
    el.style.setProperty('--dy', `${380 + Math.random() * 160}px`);
    el.style.setProperty('--arc', `${60 + Math.random() * 90}px`);
    el.style.setProperty('--spin', `${side * (360 + Math.round(Math.random() * 360))}deg`);
    el.style.setProperty('--flight', `${800 + Math.round(Math.random() * 350)}ms`);
    el.classList.add('flying');
    el.addEventListener('animationend', (event) => {
      if (event.target !== el) return;
      el.classList.remove('flying');
      el.classList.add('landed');
      body.firstChild.replaceWith(svgIcon(iconFor(item.kind, true)));
      if (item.text) showHeckle(item);
      speakerHit();
    });
  } else {
    el.classList.add(mode === 'history' ? 'from-history' : 'landed');
  }
  target.append(el);
  // A live heckle pops up as a speech bubble where its throw lands (for a flight: once it has
  // landed); history brings back its newest ones (showHistory).
  if (item.text && mode === 'land') showHeckle(item);
}

// ---- heckle bubbles ----
// The newest HECKLES_SHOWN heckles stay up, each near its throw and never on another bubble or
// on the counters (placeBubble in demo-logic.js); a new one takes down the oldest when there is
// no room or too many are up.

function rectIn(el, origin) {
  const r = el.getBoundingClientRect();
  return { left: r.left - origin.left, top: r.top - origin.top, width: r.width, height: r.height };
}

// Places `bubble` clear of the counters and of the bubbles already placed; false when it cannot
// be placed at all (its throw has left the stage, or the stage is too small for it).
function layoutHeckle(bubble) {
  bubble.classList.remove('placed');
  const origin = stage.getBoundingClientRect();
  const thrown = target.querySelector(`.thrown[data-seq="${bubble.dataset.seq}"]`);
  if (!thrown) return false;  // its throw left the stage (MAX_LANDED)
  const at = rectIn(thrown, origin);
  const anchor = { x: at.left + at.width / 2, y: at.top };
  const size = { width: bubble.offsetWidth, height: bubble.offsetHeight };
  const bounds = { left: 4, top: 4, width: origin.width - 8, height: origin.height - 8 };
  for (;;) {
    const others = [...heckles.querySelectorAll('.caption.placed')];
    const taken = [rectIn(counters, origin), ...others.map((other) => rectIn(other, origin))];
    const spot = placeBubble(anchor, size, bounds, taken);
    if (spot) {
      bubble.style.left = `${spot.left}px`;
      bubble.style.top = `${spot.top}px`;
      bubble.classList.add('placed');
      return true;
    }
    if (others.length === 0) return false;
    others[0].remove();  // the oldest makes room
  }
}

function showHeckle(item) {
  const bubble = document.createElement('span');
  bubble.className = 'caption';
  bubble.dataset.seq = String(item.seq);
  bubble.textContent = item.text;
  // Kept in offset order: flights take different times, so heckles may land out of order, and
  // the ones that stay up are the newest by offset, on every page alike.
  const later = [...heckles.children].find((other) => Number(other.dataset.seq) > item.seq);
  heckles.insertBefore(bubble, later ?? null);
  while (heckles.children.length > HECKLES_SHOWN) heckles.firstElementChild.remove();
  if (bubble.isConnected && !layoutHeckle(bubble)) bubble.remove();
}

// A new size moves the throws (they sit at percentages) but not the bubbles (pixels): lay them
// out again, oldest first.
function relayoutHeckles() {
  const bubbles = [...heckles.children];
  for (const bubble of bubbles) bubble.classList.remove('placed');
  for (const bubble of bubbles) {
    if (!layoutHeckle(bubble)) bubble.remove();
  }
}
new ResizeObserver(() => relayoutHeckles()).observe(stage);

function trimLanded() {
  const excess = target.children.length - MAX_LANDED;
  for (let i = 0; i < excess; i++) target.firstElementChild.remove();
}

function speakerHit() {
  speaker.classList.remove('hit');
  void speaker.offsetWidth;  // restart the animation when hits come in quick succession
  speaker.classList.add('hit');
  clearTimeout(hitTimer);
  hitTimer = setTimeout(() => speaker.classList.remove('hit'), 500);
}

function counterFor(kind) {
  for (const el of counters.querySelectorAll('[data-count]')) {
    if (el.dataset.count === kind) return el;
  }
  // A kind this page has no button for: give it a counter anyway, with the generic icon.
  const li = document.createElement('li');
  li.className = 'counter extra';
  li.title = kind;
  li.append(svgIcon('#icon-mystery'));
  const label = document.createElement('span');
  label.className = 'visually-hidden';
  label.textContent = `${kind}:`;
  const count = document.createElement('span');
  count.dataset.count = kind;
  li.append(label, ' ', count);
  counters.append(li);
  return count;
}

function updateCounters(items) {
  const kinds = new Set(items.map((item) => item.kind));
  for (const kind of kinds) {
    const el = counterFor(kind);
    el.textContent = String(state.counts[kind] ?? 0);
    const chip = el.closest('.counter');
    chip.classList.remove('bump');
    void chip.offsetWidth;
    chip.classList.add('bump');
  }
}

function showAlert(message) {
  alertEl.textContent = message;
  alertEl.hidden = false;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => { alertEl.hidden = true; }, ALERT_MS);
}

// ---- throwing ----

function throwKind(kind) {
  const message = throwData(kind, textInput.value);
  if (message.error === 'bad_text') {
    showAlert(`A heckle can be ${MAX_TEXT_CHARS} characters at most.`);
    return;
  }
  if (!hub || hub.state !== 'connected' || message.error) return;
  lastKind = kind;
  // Not drawn here: it appears when the hub pushes it back with its offset, stored, like every
  // other page sees it. That keeps one order and no duplicates.
  hub.publish(DEMO_CHANNEL, message.data).catch((err) => showAlert(refusalText(err)));
  textInput.value = '';
  showHeckleCount();
}

// The limit is shown as you type, counted as the server counts it (the input has no maxlength:
// that would count UTF-16 units and stop an emoji heckle at half its length).
function showHeckleCount() {
  const count = heckleCount(textInput.value);
  heckleCountEl.textContent = count.label;
  heckleCountEl.dataset.over = String(count.over);
  textInput.setAttribute('aria-invalid', String(count.over));
}

for (const button of buttons) {
  button.addEventListener('click', () => throwKind(button.dataset.throw));
}
textInput.addEventListener('input', showHeckleCount);
textInput.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' || event.isComposing) return;
  event.preventDefault();
  throwKind(lastKind);
});
showHeckleCount();

const hub = start();

// Kept for tests and the console: the page's state and its hub client, read-only by convention.
window.duplexDemo = { state, hub };
