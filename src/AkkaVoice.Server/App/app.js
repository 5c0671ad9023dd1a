// The AkkaVoice browser app (PROTOCOL.md sections 7 and 8), built on the JavaScript client at /client/akkavoice.js.
// Query parameters: user, token (a JWT), room, autojoin=1, nodes (comma-separated base URLs of the
// nodes to reconnect to, http(s) or ws(s); default: this page's own origin), and stage=N with
// seatMode=request|free (create the room as a stage with N mic seats when it does not exist yet).
// Open rooms show members and chat; stage rooms add the seat row, hands, invitations, the audience count,
// a host's controls and a roster paged from the server.
import { VoiceClient } from './client/akkavoice.js';
import { Microphone, Mixer, audioSupported, sumOfSquares, SAMPLE_RATE } from './audio.js';

const params = new URLSearchParams(location.search);
const nodes = (params.get('nodes') ?? '').split(',').map(s => s.trim()).filter(Boolean);
const urls = nodes.length > 0 ? nodes : [location.origin];
const $ = id => document.getElementById(id);

// The state of PROTOCOL.md section 7 (and the stage state of section 8), kept up to date for tests and embedding.
const state = {
  state: 'closed', node: null, room: null, member: null, members: [],
  sent: 0, received: 0, decoded: 0, level: 0, chat: [], captured: 0,
  kind: 'open', role: null, seat: null, seats: [], seatsVersion: 0, seatMode: null, audience: 0, hands: [],
  muted: false, handRaised: false, invited: null, kicked: null, closedBy: null, heard: {}, roster: [], rosterNext: null,
  say: text => say(text),
  raiseHand: () => request(c => c.raiseHand(state.room)).then(r => { state.handRaised = true; drawStage(); return r; }),
  lowerHand: () => request(c => c.lowerHand(state.room)).then(r => { state.handRaised = false; drawStage(); return r; }),
  takeSeat: seat => request(c => c.takeSeat(state.room, seat)),
  leaveSeat: () => request(c => c.leaveSeat(state.room)),
  invite: (member, seat) => request(c => c.invite(state.room, member, seat)),
  setSeat: (seat, member, locked) => request(c => c.setSeat(state.room, seat, { member, locked })),
  lock: (seat, locked = true) => request(c => c.setSeat(state.room, seat, { locked })),
  mute: (member, on = true) => request(c => c.mute(state.room, member, on)),
  kick: (user, ban, reason) => request(c => c.kick(state.room, user, { ban, reason })),
  closeRoom: () => request(c => c.closeRoom(state.room)),
  loadRoster: after => loadRoster(after),
};
window.akkavoice = state;

let client = null;
let microphone = null;
let mixer = null;
const energy = [];          // [{at, sum, count}] of decoded audio, the last second
const talking = new Map();  // member -> [{at, sum, count}] of the last 300 ms

$('user').value = params.get('user') ?? localStorage.getItem('akkavoice.user') ?? '';
$('room').value = params.get('room') ?? $('room').value;
$('stage-seats').value = params.get('stage') ?? '0';
$('seat-mode').value = params.get('seatMode') === 'free' ? 'free' : 'request';
const rosterPages = []; // the `after` of each roster page shown so far, for Previous

/** A request of the client on the current room; errors are shown and rethrown. */
function request(call) {
  if (!client || !state.room) return Promise.reject(new Error('not in a room'));
  return call(client).catch(e => { problem(`${e.code ?? 'error'}: ${e.message}`); throw e; });
}

/** Whether the page may send voice: a stage room relays only members on a seat, and nobody muted by a host. */
function maySpeak() { return !state.muted && (state.kind !== 'stage' || state.seat !== null); }

/** Copies the client's view of the room into window.akkavoice and redraws. */
function sync() {
  const room = client?.rooms.get(state.room);
  if (!room) return;
  state.member = room.member;
  state.kind = room.kind;
  state.role = room.role;
  state.seat = room.seat;
  state.seats = room.seats.map(s => ({ ...s }));
  state.seatsVersion = room.seatsVersion;
  state.seatMode = room.seatMode;
  state.audience = room.audience;
  state.hands = [...room.hands].map(([member, user]) => ({ member, user }));
  state.muted = room.muted;
  state.members = [...room.members].map(([member, user]) => ({ member, user, role: room.roles.get(member) ?? 'member' }));
  if (state.seat !== null) { state.invited = null; state.handRaised = false; }
  drawMembers();
  drawStage();
}

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
    setState('joined');
    sync();
    showRoom();
    if (state.kind === 'stage') loadRoster().catch(() => {});
  });
  client.on('member-joined', m => { if (m.room === state.room) sync(); });
  client.on('member-left', m => {
    if (m.room !== state.room) return;
    // A speaker who left its seat is still in the room, in the audience: it may take a seat again.
    if (m.reason !== 'left-seat') { mixer?.forget(m.member); talking.delete(m.member); }
    sync();
  });
  for (const type of ['seats', 'hand', 'role', 'audience', 'muted', 'rejoined'])
    client.on(type, m => { if (m.room === state.room) sync(); });
  client.on('invited', i => {
    if (i.room !== state.room) return;
    state.invited = { seat: i.seat ?? null, by: i.by, until: Date.now() + 60000 };
    drawStage();
  });
  client.on('kicked', k => { if (k.room === state.room) removed({ kicked: { by: k.by, reason: k.reason ?? null } }, `You were removed from ${k.room} by ${k.by}${k.reason ? `: ${k.reason}` : ''}`); });
  client.on('room-closed', c => { if (c.room === state.room) removed({ closedBy: c.reason }, `The room ${c.room} was ${c.reason === 'deleted' ? 'deleted' : 'closed by a host'}`); });
  client.on('close', c => { if (c.code === 4001) removed({}, `Disconnected by the server${c.reason ? `: ${c.reason}` : ''}`); });
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
  client.on('error', e => {
    // Frames already on their way when a host muted this member or took its seat are refused once; that is expected.
    if (e.code === 'forbidden' && e.ref === undefined && !maySpeak()) return;
    problem(`${e.code}: ${e.message}`);
  });
  try {
    mixer = new Mixer(onDecoded);
    await client.connect();
    const seats = Number(params.get('stage') ?? $('stage-seats').value);
    const stage = seats > 0 ? { seats, seatMode: $('seat-mode').value } : undefined;
    await client.join(room, { stage });
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
    packet => {
      state.captured++;
      if (maySpeak() && client?.sendFrame(state.room, packet)) state.sent++;
    },
    samples => { if (maySpeak()) addLevel(state.member, { at: performance.now(), sum: sumOfSquares(samples), count: samples.length }); });
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
  state.heard[member] = (state.heard[member] ?? 0) + 1;
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
  for (const li of document.querySelectorAll('#members li, #seats li[data-member]')) {
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
  drawStage();
  drawChat();
}

function button(text, onClick, className = 'small') {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.addEventListener('click', () => { Promise.resolve(onClick()).catch(() => {}); });
  return b;
}

function freeSeats() { return state.seats.filter(s => (s.member === undefined || s.member === null) && !s.locked); }

// The stage: the seat row (who sits where, who is talking, a host's controls), hands, the invitation, the audience.
function drawStage() {
  const stage = state.kind === 'stage';
  const host = state.role === 'host';
  $('room-view').classList.toggle('host', host);
  $('room-view').classList.toggle('stage', stage);
  // An open room shows a role only to its host (who gets Mute and Kick); everyone else sees it as before.
  $('role').textContent = state.role && (stage || host) ? `${state.role}${state.seat !== null ? ` · seat ${state.seat}` : ''}${state.muted ? ' · muted by a host' : ''}` : '';
  $('stage-view').hidden = !stage;
  $('roster-panel').hidden = !stage;
  if (!stage) return;
  $('audience').textContent = `${state.audience} listening`;
  const seated = state.seat !== null;
  const raised = state.handRaised;
  $('raise-hand').hidden = seated || host;
  $('raise-hand').setAttribute('aria-pressed', String(raised));
  $('raise-hand').textContent = raised ? 'Lower hand' : 'Raise hand';
  $('take-seat').hidden = seated || !(host || state.seatMode === 'free') || freeSeats().length === 0;
  $('leave-seat').hidden = !seated;
  const invitation = state.invited && state.invited.until > Date.now() && !seated ? state.invited : null;
  $('invitation').hidden = !invitation;
  if (invitation) $('invitation').querySelector('span').textContent = `${invitation.by} invites you to ${invitation.seat === null ? 'a seat' : `seat ${invitation.seat}`}.`;

  $('seats').replaceChildren(...state.seats.map(s => {
    const li = document.createElement('li');
    const taken = s.member !== undefined && s.member !== null;
    li.dataset.seat = s.seat;
    if (taken) { li.dataset.member = s.member; li.dataset.user = s.user; }
    li.classList.toggle('free', !taken);
    li.classList.toggle('locked', s.locked);
    li.classList.toggle('muted', s.muted);
    li.classList.toggle('me', taken && s.member === state.member);
    const number = document.createElement('span');
    number.className = 'number';
    number.textContent = `seat ${s.seat}`;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = taken ? s.user : 'free';
    const level = document.createElement('span');
    level.className = 'level';
    level.append(document.createElement('span'));
    const controls = document.createElement('span');
    controls.className = 'controls';
    if (!taken && !s.locked && !seated && (host || state.seatMode === 'free' || invitation)) controls.append(button('Sit here', () => state.takeSeat(s.seat)));
    if (!taken && !s.locked && seated && host) controls.append(button('Move here', () => state.takeSeat(s.seat)));
    if (host) {
      if (taken) {
        controls.append(button(s.muted ? 'Unmute' : 'Mute', () => state.mute(s.member, !s.muted)));
        controls.append(button('To audience', () => state.setSeat(s.seat, null)));
        if (s.member !== state.member) controls.append(button('Kick', () => state.kick(s.user)));
      }
      controls.append(button(s.locked ? 'Unlock' : 'Lock', () => state.lock(s.seat, !s.locked)));
    }
    li.append(number, name, level, controls);
    return li;
  }));

  $('hands').replaceChildren(...state.hands.map(h => {
    const li = document.createElement('li');
    li.dataset.member = h.member;
    const who = document.createElement('span');
    who.textContent = h.user;
    li.append(who, button('Invite', () => state.invite(h.member)));
    const free = freeSeats()[0];
    if (free) li.append(button(`Put on seat ${free.seat}`, () => state.setSeat(free.seat, h.member)));
    return li;
  }));
}

// The roster: every member of the room, a page at a time (a stage's audience is not sent member by member).
async function loadRoster(after) {
  if (!client || !state.room) return [];
  const page = await client.roster(state.room, { after, limit: 20 });
  if (after === undefined) rosterPages.length = 0;
  if (rosterPages.length === 0 || rosterPages[rosterPages.length - 1] !== after) rosterPages.push(after);
  state.roster = page.members;
  state.rosterNext = page.next ?? null;
  drawRoster();
  return page.members;
}

function drawRoster() {
  const host = state.role === 'host';
  $('roster').replaceChildren(...state.roster.map(m => {
    const li = document.createElement('li');
    li.dataset.member = m.member;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = m.user;
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = m.seat !== undefined && m.seat !== null ? `${m.role} · seat ${m.seat}` : m.role;
    li.append(who, tag);
    if (host && m.member !== state.member) {
      const free = freeSeats()[0];
      if (m.role === 'listener') li.append(button('Invite', () => state.invite(m.member)));
      if (free) li.append(button(`Seat ${free.seat}`, () => state.setSeat(free.seat, m.member)));
      if (m.role !== 'host') li.append(button('Mute', () => state.mute(m.member, true)), button('Kick', () => state.kick(m.user)));
    }
    return li;
  }));
  $('roster-page').textContent = `page ${rosterPages.length}`;
  $('roster-prev').disabled = rosterPages.length <= 1;
  $('roster-next').disabled = state.rosterNext === null;
}

/** Out of the room (kicked, closed, disconnected by the server): what happened stays in window.akkavoice and on the page. */
function removed(what, message) {
  leave();
  Object.assign(state, what);
  problem(message);
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
    if (state.kind === 'stage' && m.role) {
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = m.role;
      name.after(tag);
    }
    // A host moderates an open room from its member list.
    if (state.kind !== 'stage' && state.role === 'host' && m.member !== state.member)
      li.append(button(state.mutedMembers?.has(m.member) ? 'Unmute' : 'Mute', () => toggleMute(m.member)), button('Kick', () => state.kick(m.user)));
    return li;
  }));
}

function toggleMute(member) {
  state.mutedMembers ??= new Set();
  const on = !state.mutedMembers.has(member);
  return state.mute(member, on).then(() => { on ? state.mutedMembers.add(member) : state.mutedMembers.delete(member); drawMembers(); });
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
  Object.assign(state, {
    node: null, room: null, member: null, members: [], level: 0, chat: [], kind: 'open', role: null, seat: null, seats: [],
    seatsVersion: 0, seatMode: null, audience: 0, hands: [], muted: false, handRaised: false, invited: null, roster: [], rosterNext: null,
  });
  state.mutedMembers = undefined;
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
$('raise-hand').addEventListener('click', () => (state.handRaised ? state.lowerHand() : state.raiseHand()).catch(() => {}));
$('take-seat').addEventListener('click', () => state.takeSeat().catch(() => {}));
$('leave-seat').addEventListener('click', () => state.leaveSeat().catch(() => {}));
$('accept').addEventListener('click', () => state.takeSeat(state.invited?.seat ?? undefined).catch(() => {}));
$('close-room').addEventListener('click', () => state.closeRoom().catch(() => {}));
$('roster-refresh').addEventListener('click', () => loadRoster().catch(() => {}));
$('roster-next').addEventListener('click', () => { if (state.rosterNext !== null) loadRoster(state.rosterNext).catch(() => {}); });
$('roster-prev').addEventListener('click', () => {
  if (rosterPages.length < 2) return;
  rosterPages.pop();
  const after = rosterPages.pop();
  loadRoster(after).catch(() => {});
});
document.addEventListener('click', () => mixer?.resume());

if (params.get('autojoin') === '1' && params.get('room')) join(params.get('user') ?? '', params.get('room'));
