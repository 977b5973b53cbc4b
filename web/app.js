// The tomato page: the socket, the reconnect loop and the drawing. What each server message
// means is decided in demo-logic.js (tested without a browser); this file only acts on it.
import {
  KNOWN_KINDS,
  backoffDelay,
  beginConnection,
  createState,
  handleMessage,
  landingSpot,
  throwMessage,
  wsUrlFor,
} from './demo-logic.js';

// The DOM stays bounded however long the talk runs: counters keep counting, but only the newest
// MAX_LANDED objects stay on the speaker, and at most MAX_FLYING are in the air (a burst beyond
// that lands without the flight).
const MAX_LANDED = 60;
const MAX_FLYING = 40;
const CONNECT_TIMEOUT_MS = 10000;  // a connection attempt that hangs is dropped and retried
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

let socket = null;
let attempt = 0;          // failed attempts since the last good connection: drives the backoff
let everOpened = false;
let retryTimer = 0;
let countdownTimer = 0;
let connectTimer = 0;
let alertTimer = 0;
let hitTimer = 0;

// ---- connection ----

function setStatus(stateName, text) {
  statusEl.dataset.state = stateName;
  statusText.textContent = text;
}

function setButtonsEnabled(enabled) {
  for (const button of buttons) button.disabled = !enabled;
}

function connect() {
  clearTimeout(retryTimer);
  clearInterval(countdownTimer);
  const since = beginConnection(state);
  const url = wsUrlFor(window.location.href, since);
  if (!url) {
    setStatus('connecting', 'Open this page from the duplexd server to join');
    return;
  }
  setStatus(everOpened || attempt > 0 ? 'reconnecting' : 'connecting',
    everOpened || attempt > 0 ? 'Reconnecting…' : 'Connecting…');

  const ws = new WebSocket(url);
  socket = ws;
  connectTimer = setTimeout(() => { if (ws.readyState === WebSocket.CONNECTING) ws.close(); },
    CONNECT_TIMEOUT_MS);

  ws.addEventListener('open', () => {
    if (ws !== socket) return;
    clearTimeout(connectTimer);
    everOpened = true;
    setStatus('open', 'Live: throw away!');
    setButtonsEnabled(true);
  });
  ws.addEventListener('message', (event) => {
    if (ws !== socket || typeof event.data !== 'string') return;
    apply(handleMessage(state, event.data), ws);
  });
  ws.addEventListener('close', () => {
    if (ws !== socket) return;
    clearTimeout(connectTimer);
    socket = null;
    setButtonsEnabled(false);
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  const delay = backoffDelay(attempt);
  attempt += 1;
  const due = Date.now() + delay;
  const tick = () => {
    const seconds = Math.max(1, Math.ceil((due - Date.now()) / 1000));
    setStatus('reconnecting', `Offline · reconnecting in ${seconds} s…`);
  };
  tick();
  countdownTimer = setInterval(tick, 500);
  retryTimer = setTimeout(connect, delay);
}

// Back online after a network change: no reason to sit out the rest of the backoff.
window.addEventListener('online', () => { if (!socket) connect(); });

// ---- what server messages do ----

function apply(effect, ws) {
  switch (effect.type) {
    case 'history':
      attempt = 0;  // a history means the server is really there: the backoff starts over
      if (effect.reset) clearStage();
      showHistory(effect.items);
      break;
    case 'throw':
      showThrow(effect.item);
      break;
    case 'resync':
      // Another history than ours: drop what is shown and ask again from the start.
      clearStage();
      socket = null;
      ws.close(1000, 'resync');
      connect();
      break;
    case 'error':
      showAlert(effect.message);
      break;
    default:
      break;  // 'ignore': duplicates and malformed messages change nothing
  }
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
  const message = throwMessage(kind, textInput.value);
  if (message.error === 'bad_text') {
    showAlert('A heckle can be 64 characters at most.');
    return;
  }
  if (!socket || socket.readyState !== WebSocket.OPEN || message.error) return;
  // Not drawn here: it appears when the server sends it back with its seq, stored, like every
  // other page sees it. That keeps one order and no duplicates.
  socket.send(message.json);
  textInput.value = '';
}

for (const button of buttons) {
  button.addEventListener('click', () => throwKind(button.dataset.throw));
}

// Kept for tests and the console: the page's state, read-only by convention.
window.duplexDemo = { state };

connect();
