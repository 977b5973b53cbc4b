// The admin page: logs in over /admin/live (the secret is the socket's first message), draws
// the counters it pushes every second as rates, and acts through the server API with the same
// secret as X-API-Key. See apps/duplexd/admin.h.
const POINTS = 60;  // one a second: the last minute

const $ = (selector) => document.querySelector(selector);
let secret = '';
let previous = null;
const series = { connections: [], messages: [], publishes: [], latency: [] };

function setStatus(state, text) {
  $('#status').dataset.state = state;
  $('#status').textContent = text;
}

function plot(name, value) {
  const points = series[name];
  points.push(value);
  if (points.length > POINTS) points.shift();
  const figure = document.querySelector(`[data-metric="${name}"]`);
  figure.dataset.latest = String(value);
  figure.querySelector('output').textContent = Number.isInteger(value) ? value : value.toFixed(2);
  const canvas = figure.querySelector('canvas');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const top = Math.max(1, ...points);
  g.strokeStyle = '#d1242f';
  g.lineWidth = 2;
  g.beginPath();
  points.forEach((v, i) => {
    const x = (i / (POINTS - 1)) * canvas.width;
    const y = canvas.height - 4 - (v / top) * (canvas.height - 8);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}

function showStats(stats) {
  plot('connections', stats.connections);
  if (previous) {
    const seconds = Math.max(0.001, (stats.at - previous.at) / 1000);
    plot('messages', (stats.messagesIn - previous.messagesIn) / seconds);
    plot('publishes', (stats.publishes - previous.publishes) / seconds);
    const commits = stats.commits - previous.commits;
    plot('latency', commits ? ((stats.commitSeconds - previous.commitSeconds) / commits) * 1000 : 0);
  }
  previous = stats;
  const rows = stats.channels.map((c) => {
    const row = document.createElement('tr');
    row.dataset.channel = c.channel;
    for (const text of [c.channel, c.subscribers, c.offset]) {
      const cell = document.createElement('td');
      cell.textContent = String(text);
      row.append(cell);
    }
    const cell = document.createElement('td');
    const button = document.createElement('button');
    button.textContent = 'presence';
    button.addEventListener('click', () => showPresence(c.channel));
    cell.append(button);
    row.append(cell);
    return row;
  });
  $('#channels tbody').replaceChildren(...rows);
}

async function api(endpoint, body) {
  const response = await fetch(`/api/${endpoint}`, {
    method: 'POST',
    headers: { 'X-API-Key': secret, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

function showResult(what, answer) {
  $('#result').textContent = `${what}: ${answer.status} ${JSON.stringify(answer.body)}`;
}

async function showPresence(channel) {
  const answer = await api('presence', { channel });
  const panel = $('#presence');
  panel.hidden = false;
  panel.querySelector('h3').textContent = `Presence in ${channel}`;
  if (answer.status !== 200) {
    panel.querySelector('ul').replaceChildren();
    showResult('presence', answer);
    return;
  }
  const members = Object.entries(answer.body.result.clients ?? {});
  panel.querySelector('ul').replaceChildren(...members.map(([client, info]) => {
    const item = document.createElement('li');
    item.dataset.client = client;
    item.textContent = info.user ? `${client} (${info.user})` : client;
    return item;
  }));
}

function login(password) {
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/admin/live`);
  socket.addEventListener('open', () => socket.send(JSON.stringify({ login: password })));
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'refused') {
      $('#login-error').textContent = message.message;
      $('#login-error').hidden = false;
    } else if (message.type === 'welcome') {
      secret = password;
      $('#login').hidden = true;
      $('#dashboard').hidden = false;
      setStatus('in', 'live');
    } else if (message.type === 'stats') {
      showStats(message);
    }
  });
  socket.addEventListener('close', () => {
    if (secret) setStatus('out', 'disconnected: reload to log in again');
  });
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  $('#login-error').hidden = true;
  login($('#password').value);
});

$('#publish').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  let data;
  try {
    data = JSON.parse(form.data.value);
  } catch (error) {
    $('#result').textContent = `publish: the data is not JSON (${error.message})`;
    return;
  }
  showResult('publish', await api('publish', { channel: form.channel.value, data }));
});

$('#disconnect').addEventListener('submit', async (event) => {
  event.preventDefault();
  showResult('disconnect', await api('disconnect', { user: event.target.user.value }));
});
