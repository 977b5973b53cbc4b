// The tomato page: the drawing, and the hub connection through duplex.js (reconnect with
// backoff, recovery of what was missed, retried throws that are stored once). What each
// publication means is decided in demo-logic.js (tested without a browser); this file acts on it.
import { DuplexClient } from './duplex.js';
import {
  DEMO_CHANNEL,
  HISTORY_LIMIT,
  KNOWN_KINDS,
  acceptPublication,
  clearState,
  createState,
  hubUrlFor,
  landingSpot,
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
const target = document.getElementById('target');
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
}

function showThrow(item) {
  const flying = target.querySelectorAll('.thrown.flying').length;
  placeItem(item, flying < MAX_FLYING && !reducedMotion.matches ? 'fly' : 'land');
  trimLanded();
  updateCounters([item]);
}

function clearStage() {
  target.replaceChildren();
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
      if (item.text) el.append(caption(item.text));
      speakerHit();
    });
  } else {
    el.classList.add(mode === 'history' ? 'from-history' : 'landed');
  }
  // A live heckle pops up as a speech bubble where its throw lands (for a flight: once it has
  // landed); history keeps the text in the title only.
  if (item.text && mode === 'land') el.append(caption(item.text));
  target.append(el);
}

function caption(text) {
  const bubble = document.createElement('span');
  bubble.className = 'caption';
  bubble.textContent = text;
  bubble.addEventListener('animationend', () => bubble.remove());
  return bubble;
}

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
    showAlert('A heckle can be 64 characters at most.');
    return;
  }
  if (!hub || hub.state !== 'connected' || message.error) return;
  // Not drawn here: it appears when the hub pushes it back with its offset, stored, like every
  // other page sees it. That keeps one order and no duplicates.
  hub.publish(DEMO_CHANNEL, message.data).catch((err) => showAlert(refusalText(err)));
  textInput.value = '';
}

for (const button of buttons) {
  button.addEventListener('click', () => throwKind(button.dataset.throw));
}

const hub = start();

// Kept for tests and the console: the page's state and its hub client, read-only by convention.
window.duplexDemo = { state, hub };
