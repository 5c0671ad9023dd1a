// The AkkaVoice browser app (PROTOCOL.md section 7), built on the JavaScript client at /client/akkavoice.js.
// Query parameters: user, token (a JWT), room, autojoin=1, and nodes (comma-separated base URLs of the
// nodes to reconnect to, http(s) or ws(s); default: this page's own origin).
import { VoiceClient } from './client/akkavoice.js';
import { Microphone, Mixer, audioSupported, sumOfSquares, SAMPLE_RATE } from './audio.js';

const params = new URLSearchParams(location.search);
const nodes = (params.get('nodes') ?? '').split(',').map(s => s.trim()).filter(Boolean);
const urls = nodes.length > 0 ? nodes : [location.origin];
const $ = id => document.getElementById(id);

// The state of PROTOCOL.md section 7, kept up to date for tests and embedding.
const state = {
  state: 'closed', node: null, room: null, member: null, members: [],
  sent: 0, received: 0, decoded: 0, level: 0, chat: [],
  say: text => say(text),
};
window.akkavoice = state;

let client = null;
let microphone = null;
let mixer = null;
const energy = [];          // [{at, sum, count}] of decoded audio, the last second
const talking = new Map();  // member -> [{at, sum, count}] of the last 300 ms

$('user').value = params.get('user') ?? localStorage.getItem('akkavoice.user') ?? '';
$('room').value = params.get('room') ?? $('room').value;

function setState(value) {
  state.state = value;
  const status = $('status');
  status.className = `status ${value}`;
  status.textContent = { closed: 'not connected', connecting: 'connecting…', joined: 'joined', reconnecting: 'reconnecting…' }[value];
}

function problem(text) { $('problem').textContent = text ?? ''; }

async function join(user, room) {
  problem();
  if (client) return;
  if (user) localStorage.setItem('akkavoice.user', user);
  setState('connecting');
  client = new VoiceClient({ urls, user: user || undefined, token: params.get('token') ?? undefined, pingInterval: 5000, silentTimeout: 4000 });
  client.on('welcome', w => { state.node = w.node; $('node').textContent = `on ${w.node} (${client.url})`; });
  client.on('joined', j => {
    state.room = j.room;
    state.member = j.member;
    state.members = j.members.map(m => ({ member: m.member, user: m.user }));
    setState('joined');
    showRoom();
  });
  client.on('member-joined', m => {
    if (m.room !== state.room || state.members.some(x => x.member === m.member)) return;
    state.members = [...state.members, { member: m.member, user: m.user }];
    drawMembers();
  });
  client.on('member-left', m => {
    if (m.room !== state.room) return;
    state.members = state.members.filter(x => x.member !== m.member);
    mixer?.forget(m.member);
    talking.delete(m.member);
    drawMembers();
  });
  client.on('said', s => {
    if (s.room !== state.room) return;
    state.chat = [...state.chat, { user: s.user, text: s.text, seq: s.seq }];
    drawChat();
  });
  client.on('frame', f => {
    state.received++;
    mixer?.play(f.member, f.payload);
  });
  client.on('reconnecting', r => {
    if (state.state !== 'closed') setState('reconnecting');
    $('node').textContent = `reconnecting to ${r.url} in ${r.delay} ms (${r.reason})`;
  });
  client.on('rejoined', r => { if (!r.recovered && r.missed > 0) problem(`${r.missed} chat messages were lost while reconnecting`); });
  client.on('error', e => problem(`${e.code}: ${e.message}`));
  try {
    mixer = new Mixer(onDecoded);
    await client.connect();
    await client.join(room);
  } catch (e) {
    problem(`Cannot join: ${e.message}`);
    leave();
    return;
  }
  if (!audioSupported()) {
    $('mic').textContent = 'this browser has no WebCodecs audio: listening and chat only';
    return;
  }
  microphone = new Microphone(
    packet => { if (client?.sendFrame(state.room, packet)) state.sent++; },
    samples => addLevel(state.member, { at: performance.now(), sum: sumOfSquares(samples), count: samples.length }));
  try {
    await microphone.start();
    $('mic').textContent = 'microphone on';
  } catch (e) {
    microphone = null;
    $('mic').textContent = `no microphone (${e.message}): listening and chat only`;
  }
}

function onDecoded(member, samples) {
  state.decoded++;
  const entry = { at: performance.now(), sum: sumOfSquares(samples), count: samples.length };
  energy.push(entry);
  addLevel(member, entry);
}

function addLevel(member, entry) {
  if (!talking.has(member)) talking.set(member, []);
  const entries = talking.get(member);
  entries.push(entry);
  if (entries.length > 500) entries.splice(0, entries.length - 500);
}

function rms(entries, since) {
  while (entries.length > 0 && entries[0].at < since) entries.shift();
  let sum = 0, count = 0;
  for (const e of entries) { sum += e.sum; count += e.count; }
  return count > 0 ? Math.min(1, Math.sqrt(sum / count)) : 0;
}

// Levels: the whole room's over the last second, and each member's over the last 300 ms.
setInterval(() => {
  const now = performance.now();
  state.level = rms(energy, now - 1000);
  for (const li of document.querySelectorAll('#members li')) {
    const member = Number(li.dataset.member);
    const level = rms(talking.get(member) ?? [], now - 300);
    li.querySelector('.level span').style.width = `${Math.round(Math.min(1, level * 4) * 100)}%`;
    li.classList.toggle('talking', level > 0.01);
  }
  $('counters').textContent = `sent ${state.sent} · received ${state.received} · decoded ${state.decoded} · level ${state.level.toFixed(3)} · ${SAMPLE_RATE / 1000} kHz Opus`;
}, 200);

function showRoom() {
  $('join-form').hidden = true;
  $('room-view').hidden = false;
  $('room-name').textContent = state.room;
  drawMembers();
  drawChat();
}

function drawMembers() {
  const list = $('members');
  list.replaceChildren(...state.members.map(m => {
    const li = document.createElement('li');
    li.dataset.member = m.member;
    li.dataset.user = m.user;
    if (m.member === state.member) li.classList.add('me');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = m.user;
    const level = document.createElement('span');
    level.className = 'level';
    level.append(document.createElement('span'));
    li.append(name, level);
    return li;
  }));
}

function drawChat() {
  const list = $('chat');
  list.replaceChildren(...state.chat.map(c => {
    const li = document.createElement('li');
    const who = document.createElement('b');
    who.textContent = c.user;
    li.append(who, document.createTextNode(c.text));
    return li;
  }));
  list.scrollTop = list.scrollHeight;
}

function say(text) {
  if (!client || !state.room) return Promise.reject(new Error('not in a room'));
  return client.say(state.room, String(text));
}

function leave() {
  const room = state.room;
  microphone?.stop();
  microphone = null;
  mixer?.close();
  mixer = null;
  if (client) {
    const leaving = client;
    client = null;
    (room ? leaving.leave(room).catch(() => {}) : Promise.resolve()).finally(() => leaving.close());
  }
  Object.assign(state, { node: null, room: null, member: null, members: [], level: 0, chat: [] });
  energy.length = 0;
  talking.clear();
  setState('closed');
  $('node').textContent = '';
  $('join-form').hidden = false;
  $('room-view').hidden = true;
}

$('join-form').addEventListener('submit', e => {
  e.preventDefault();
  join($('user').value.trim(), $('room').value.trim());
});
$('leave').addEventListener('click', leave);
$('mute').addEventListener('click', () => {
  if (!microphone) return;
  microphone.muted = !microphone.muted;
  $('mute').setAttribute('aria-pressed', String(microphone.muted));
  $('mute').textContent = microphone.muted ? 'Unmute' : 'Mute';
});
$('say-form').addEventListener('submit', e => {
  e.preventDefault();
  const text = $('say-text').value;
  if (!text) return;
  say(text).then(() => { $('say-text').value = ''; }, err => problem(`Not sent: ${err.message}`));
});
document.addEventListener('click', () => mixer?.resume());

if (params.get('autojoin') === '1' && params.get('room')) join(params.get('user') ?? '', params.get('room'));
