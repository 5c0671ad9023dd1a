// AkkaVoice client: one ES module for browsers and Node.js 20+ (PROTOCOL.md v1.2, subprotocol akkavoice.v1).
// Rooms, voice frames as Uint8Array, chat, direct messages, keep-alive, stage rooms (roles, mic seats,
// hands, invitations, moderation, audience counts, roster paging), and healing: on a lost or silent node
// it reconnects over its list of node URLs (exponential backoff with jitter) and rejoins every room,
// asking with `since` for the chat it missed and taking back the mic seat it held when that seat is still
// free or still its own. A connection the server closed with 4001 (the server API's disconnect) is never
// reconnected.
//
//   import { VoiceClient } from '/client/akkavoice.js';
//   const client = new VoiceClient({ urls: ['http://127.0.0.1:5000'], user: 'alice' });
//   client.on('frame', f => play(f.member, f.payload));
//   await client.connect();
//   await client.join('lobby');
//   client.sendFrame('lobby', opusPacket);
//
// In Node.js 20 (no global WebSocket) pass one: `new VoiceClient({ urls, user, WebSocket })` with
// `import WebSocket from 'ws'`.

export const SUBPROTOCOL = 'akkavoice.v1';

/** The close code of the server API's `disconnect` (PROTOCOL.md section 9): a client does not reconnect after it. */
export const CLOSE_DISCONNECTED = 4001;

/** An `error` message from the server, as a rejected request: `code` is the protocol's error code. */
export class AkkaVoiceError extends Error {
  constructor(code, message, ref) {
    super(`${code}: ${message}`);
    this.name = 'AkkaVoiceError';
    this.code = code;
    this.ref = ref;
  }
}

/**
 * The WebSocket URL for a node's base URL: http(s) becomes ws(s), an empty path becomes `/ws`, and the
 * identity goes in the query (`access_token` for a JWT, else `user` in development mode).
 */
export function socketUrl(base, { user, token } = {}) {
  const url = new URL(base, globalThis.location?.href);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`not a node URL: ${base}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/ws';
  if (token) url.searchParams.set('access_token', token);
  else if (user) url.searchParams.set('user', user);
  return url.toString();
}

/** The wait before reconnect attempt `attempt` (0 first): none for the first (it goes to the next node), then doubling from initialDelay up to maxDelay, minus up to `jitter` of it at random. */
export function backoffDelay(attempt, { initialDelay = 250, maxDelay = 10000, jitter = 0.5 } = {}, random = Math.random) {
  if (attempt <= 0) return 0;
  const full = Math.min(maxDelay, initialDelay * 2 ** Math.min(attempt - 1, 30));
  return Math.round(full * (1 - jitter * random()));
}

/** A client-to-server voice frame: `[slot][payload]`. */
export function encodeFrame(slot, payload) {
  const frame = new Uint8Array(1 + payload.length);
  frame[0] = slot;
  frame.set(payload, 1);
  return frame;
}

/** A server-to-client voice frame `[slot][member u32 BE][payload]`; null when shorter than 6 bytes. */
export function decodeFrame(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 6) return null;
  const member = ((bytes[1] << 24) | (bytes[2] << 16) | (bytes[3] << 8) | bytes[4]) >>> 0;
  return { slot: bytes[0], member, payload: bytes.subarray(5) };
}

const defaults = {
  pingInterval: 10000,
  silentTimeout: 5000,
  connectTimeout: 10000,
  requestTimeout: 10000,
  reconnect: true,
  initialDelay: 250,
  maxDelay: 10000,
  jitter: 0.5,
  seatReclaimTimeout: 15000,
};

export class VoiceClient {
  #options;
  #WebSocket;
  #socket = null;
  #index = 0;
  #attempt = 0;
  #nextRef = 0;
  #pending = new Map();
  #listeners = new Map();
  #slots = new Map();
  #timers = new Set();
  #pingTimer = null;
  #connectTimer = null;
  #lastTraffic = 0;
  #welcomed = false;
  #connecting = null;

  /** @param {object} options see akkavoice.d.ts (VoiceClientOptions) */
  constructor(options = {}) {
    const urls = typeof options.urls === 'string' ? [options.urls] : [...(options.urls ?? [])];
    if (urls.length === 0) throw new TypeError('VoiceClient needs urls: one node URL or more');
    urls.forEach(u => socketUrl(u));
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WebSocket !== 'function')
      throw new TypeError('no WebSocket: pass options.WebSocket (in Node.js 20, the ws package)');
    this.#options = { ...defaults, ...options, urls };
    this.random = options.random ?? Math.random;
    /** `idle`, `connecting`, `open`, `reconnecting` or `closed`. */
    this.state = 'idle';
    /** The node this client is on (`welcome.node`), its session and user id; null before the first welcome. */
    this.node = null;
    this.session = null;
    this.user = null;
    /** The node URL in use. */
    this.url = null;
    /** Joined rooms by id: `{room, slot, member, seq, members: Map<member, user>}`; `seq` is the last `said` seen. */
    this.rooms = new Map();
  }

  get urls() { return this.#options.urls; }

  /** Adds a listener; returns a function that removes it. Events are listed in akkavoice.d.ts. */
  on(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
    return () => this.off(type, listener);
  }

  off(type, listener) { this.#listeners.get(type)?.delete(listener); }

  #emit(type, event) {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try { listener(event); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.#emit('state', { state });
  }

  /** Connects to the first node URL that answers; resolves with its `welcome`. Later losses heal by themselves. */
  connect() {
    if (this.state === 'closed') return Promise.reject(new Error('the client is closed'));
    if (this.#connecting) return this.#connecting.promise;
    if (this.#welcomed && this.state === 'open') return Promise.resolve({ type: 'welcome', user: this.user, session: this.session, node: this.node });
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    this.#connecting = { promise, resolve, reject };
    if (this.state === 'idle') {
      this.#setState('connecting');
      this.#open();
    }
    return promise;
  }

  #open() {
    const base = this.#options.urls[this.#index % this.#options.urls.length];
    this.url = base;
    let socket;
    try {
      socket = new this.#WebSocket(socketUrl(base, this.#options), SUBPROTOCOL);
    } catch (e) {
      this.#retry(String(e?.message ?? e));
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#lastTraffic = Date.now();
    this.#connectTimer = this.#later(this.#options.connectTimeout, () => {
      if (this.#socket === socket) this.#drop(socket, 'no welcome');
    });
    socket.onmessage = e => {
      if (this.#socket !== socket) return;
      this.#lastTraffic = Date.now();
      if (typeof e.data === 'string') this.#text(e.data);
      else this.#frame(e.data);
    };
    socket.onerror = () => {};
    socket.onclose = e => this.#drop(socket, e.code ? `closed ${e.code}${e.reason ? ' ' + e.reason : ''}` : 'closed', e.code, e.reason);
  }

  #later(ms, fn) {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn(); }, ms);
    this.#timers.add(timer);
    return timer;
  }

  #cancel(timer) {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  #drop(socket, reason, code, closeReason) {
    if (this.#socket !== socket) return;
    this.#socket = null;
    clearInterval(this.#pingTimer);
    this.#pingTimer = null;
    this.#cancel(this.#connectTimer);
    socket.onmessage = socket.onclose = null;
    try { typeof socket.terminate === 'function' ? socket.terminate() : socket.close(); } catch { /* already closed */ }
    this.#failPending(new Error(`connection lost: ${reason}`));
    if (this.state === 'closed') return;
    this.#emit('disconnected', { url: this.url, reason, code });
    if (code === CLOSE_DISCONNECTED) {
      // The application's backend ended this user's connection: reconnecting would undo it.
      this.#connecting?.reject(new Error(`disconnected by the server: ${closeReason ?? ''}`));
      this.#connecting = null;
      this.#finish({ code, reason: closeReason ?? '' });
      return;
    }
    if (!this.#options.reconnect) {
      this.#connecting?.reject(new Error(`cannot connect to ${this.url}: ${reason}`));
      this.#connecting = null;
      this.#finish({ code, reason });
      return;
    }
    this.#retry(reason);
  }

  #retry(reason) {
    this.#index++;
    const delay = backoffDelay(this.#attempt++, this.#options, this.random);
    const url = this.#options.urls[this.#index % this.#options.urls.length];
    this.#setState(this.#welcomed ? 'reconnecting' : 'connecting');
    this.#emit('reconnecting', { attempt: this.#attempt, delay, url, reason });
    this.#later(delay, () => { if (this.state !== 'closed') this.#open(); });
  }

  #failPending(error) {
    for (const [, request] of this.#pending) {
      this.#cancel(request.timer);
      request.reject(error);
    }
    this.#pending.clear();
  }

  #text(raw) {
    let message;
    try { message = JSON.parse(raw); } catch { return; }
    this.#emit('message', message);
    const room = message.room !== undefined ? this.rooms.get(message.room) : undefined;
    switch (message.type) {
      case 'welcome': this.#welcome(message); break;
      case 'joined': this.#joined(message); break;
      case 'left':
        if (room) { this.rooms.delete(message.room); this.#slots.delete(room.slot); }
        this.#emit('left', message);
        break;
      case 'member-joined':
        if (room) {
          room.members.set(message.member, message.user);
          if (message.role) room.roles.set(message.member, message.role);
        }
        this.#emit('member-joined', message);
        break;
      case 'member-left':
        if (room) { room.members.delete(message.member); room.roles.delete(message.member); }
        this.#emit('member-left', message);
        break;
      case 'seats':
        // Seat lists can overtake each other across nodes: only a newer version counts.
        if (room) {
          if (message.version <= room.seatsVersion) break;
          this.#setSeats(room, message.seats, message.version);
        }
        this.#emit('seats', message);
        break;
      case 'hand':
        if (room) {
          if (message.raised) room.hands.set(message.member, message.user);
          else room.hands.delete(message.member);
        }
        this.#emit('hand', message);
        break;
      case 'role':
        if (room) {
          room.roles.set(message.member, message.role);
          if (message.member === room.member) room.role = message.role;
        }
        this.#emit('role', message);
        break;
      case 'audience':
        if (room) room.audience = message.count;
        this.#emit('audience', message);
        break;
      case 'muted':
        if (room) room.muted = message.muted === true;
        this.#emit('muted', message);
        break;
      case 'invited': this.#emit('invited', message); break;
      case 'kicked':
      case 'room-closed':
        // Out of the room for good: it is not rejoined after a reconnect.
        if (room) { this.rooms.delete(message.room); this.#slots.delete(room.slot); }
        this.#emit(message.type, message);
        break;
      case 'done': this.#emit('done', message); break;
      case 'said':
        if (room) {
          if (message.seq <= room.seq) break; // already seen (a replay overlapping what arrived live)
          room.seq = message.seq;
        }
        this.#emit('said', message);
        break;
      case 'direct': this.#emit('direct', message); break;
      case 'error':
        if (message.ref === undefined || !this.#pending.has(message.ref)) this.#emit('error', message);
        break;
    }
    const request = message.ref !== undefined && this.#pending.get(message.ref);
    if (request) {
      this.#pending.delete(message.ref);
      this.#cancel(request.timer);
      if (message.type === 'error') request.reject(new AkkaVoiceError(message.code, message.message, message.ref));
      else request.resolve(message);
    }
  }

  #welcome(message) {
    const again = this.#welcomed;
    this.#welcomed = true;
    this.#attempt = 0;
    this.#cancel(this.#connectTimer);
    this.node = message.node;
    this.session = message.session;
    this.user = message.user;
    this.#setState('open');
    this.#emit('welcome', message);
    this.#startPings();
    this.#connecting?.resolve(message);
    this.#connecting = null;
    if (again) this.#rejoin();
  }

  async #rejoin() {
    const socket = this.#socket;
    const rooms = [...this.rooms.values()];
    this.#slots.clear();
    const results = await Promise.all(rooms.map(async r => {
      try {
        const seat = r.seat;
        const message = { type: 'join', room: r.room, since: r.seq };
        // A stage this client created is created again if the room was lost with every member and its configuration.
        if (r.stage) message.stage = r.stage;
        const joined = await this.#request(message);
        const event = { room: r.room, slot: joined.slot, member: joined.member, recovered: joined.recovered === true, missed: joined.seq - r.seq, role: joined.role ?? 'member' };
        if (seat !== null && seat !== undefined) {
          event.seat = seat;
          event.seatBack = await this.#reclaimSeat(r.room, seat, socket);
        }
        this.#emit('rejoined', event);
        return event;
      } catch (e) {
        if (this.#socket !== socket) return null; // lost again: the next welcome rejoins
        this.rooms.delete(r.room);
        this.#emit('error', { type: 'error', room: r.room, code: e.code ?? 'rejoin-failed', message: e.message });
        return { room: r.room, failed: true };
      }
    }));
    if (this.#socket === socket && results.every(r => r)) this.#emit('recovered', { node: this.node, url: this.url, rooms: results });
  }

  #joined(message) {
    const old = this.rooms.get(message.room);
    const asked = message.ref !== undefined ? this.#pending.get(message.ref) : undefined;
    // The last said seen: kept over a rejoin (its replay follows), the caller's since, or the room's latest.
    const seq = old ? old.seq : (asked?.since ?? message.seq);
    if (old) this.#slots.delete(old.slot);
    const room = {
      room: message.room, slot: message.slot, member: message.member, seq, members: new Map(), roles: new Map(),
      kind: message.kind ?? 'open', role: message.role ?? 'member', seats: [], seatsVersion: 0, seat: null,
      seatMode: message.seatMode ?? null, audience: message.audience ?? 0, hands: new Map(), muted: false,
      stage: old?.stage ?? asked?.stage,
    };
    for (const m of message.members ?? []) {
      room.members.set(m.member, m.user);
      if (m.role) room.roles.set(m.member, m.role);
    }
    for (const h of message.hands ?? []) room.hands.set(h.member, h.user);
    if (message.seats) this.#setSeats(room, message.seats, message.seatsVersion ?? 0);
    this.rooms.set(message.room, room);
    this.#slots.set(message.slot, room);
    this.#emit('joined', message);
  }

  // A seat makes a stage member a speaker and leaving it a listener again (hosts stay hosts); the server
  // says so with `seats` and member events rather than `role`, so roles follow the seat list here.
  #setSeats(room, seats, version) {
    room.seats = seats;
    room.seatsVersion = version;
    const mine = seats.find(s => s.member === room.member);
    room.seat = mine?.seat ?? null;
    if (mine) room.muted = mine.muted === true;
    if (room.kind === 'stage' && room.role !== 'host') room.role = mine ? 'speaker' : 'listener';
    const seated = new Set(seats.filter(s => s.member !== undefined && s.member !== null).map(s => s.member));
    for (const member of seated) if (room.roles.get(member) !== 'host') room.roles.set(member, 'speaker');
    for (const [member, role] of room.roles) if (role === 'speaker' && !seated.has(member)) room.roles.set(member, 'listener');
  }

  // After a rejoin: the seat this client held before the loss, taken back when the new seat list shows it
  // free (its old membership already gone) or still held by this user (the old membership not gone yet,
  // as while the cluster has not yet declared a dead node lost: wait for the list that frees it, at most
  // seatReclaimTimeout). Someone else on it, a lock or a refusal, and it is lost.
  async #reclaimSeat(name, seat, socket) {
    const deadline = Date.now() + this.#options.seatReclaimTimeout;
    while (this.#socket === socket && Date.now() < deadline) {
      const room = this.rooms.get(name);
      if (!room || room.kind !== 'stage') return 'gone';
      if (room.seat === seat) return 'taken-back';
      const now = room.seats.find(s => s.seat === seat);
      if (!now || now.locked || (now.member !== undefined && now.member !== null && now.user !== this.user)) return 'lost';
      if (now.member === undefined || now.member === null) {
        try {
          await this.takeSeat(name, seat);
          return 'taken-back';
        } catch (e) {
          // No code: unanswered (a request that reached the room while it moved is lost with its old
          // incarnation), so ask again; a refusal with a code other than seat-taken is final.
          if (e.code !== undefined && e.code !== 'seat-taken') return 'lost';
        }
      }
      // Still shown as the old membership's: the next seat list frees it.
      await new Promise(resolve => {
        const timer = this.#later(1000, () => { off(); resolve(); });
        const off = this.on('seats', m => { if (m.room === name) { off(); this.#cancel(timer); resolve(); } });
      });
    }
    return 'lost';
  }

  #frame(data) {
    const frame = decodeFrame(data);
    if (!frame) return;
    const room = this.#slots.get(frame.slot);
    if (!room) return;
    this.#emit('frame', { room: room.room, slot: frame.slot, member: frame.member, user: room.members.get(frame.member), payload: frame.payload });
  }

  #startPings() {
    clearInterval(this.#pingTimer);
    const socket = this.#socket;
    this.#pingTimer = setInterval(() => {
      if (this.#socket !== socket) return;
      const sentAt = Date.now();
      this.#send({ type: 'ping' });
      this.#later(this.#options.silentTimeout, () => {
        if (this.#socket === socket && this.#lastTraffic < sentAt) this.#drop(socket, 'silent');
      });
    }, this.#options.pingInterval);
  }

  #send(message) {
    const socket = this.#socket;
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  #request(message, extra = {}) {
    return new Promise((resolve, reject) => {
      const ref = `r${++this.#nextRef}`;
      if (!this.#send({ ...message, ref })) {
        reject(new Error(`not connected (${this.state})`));
        return;
      }
      const timer = this.#later(this.#options.requestTimeout, () => {
        this.#pending.delete(ref);
        reject(new Error(`no answer to ${message.type} in ${this.#options.requestTimeout} ms`));
      });
      this.#pending.set(ref, { resolve, reject, timer, ...extra });
    });
  }

  /**
   * Joins a room; resolves with `joined`. With `since`, the room's `said` messages after that seq are replayed.
   * With `stage: {seats, seatMode}` a host creates a stage room when the room has no members and no configuration.
   */
  join(room, { since, stage } = {}) {
    const message = { type: 'join', room };
    if (since !== undefined) message.since = since;
    if (stage !== undefined) message.stage = stage;
    return this.#request(message, { since, stage });
  }

  /** Takes a mic seat (the lowest free unlocked one without `seat`); resolves with the `seats` that shows it (`done` when it was already this member's). */
  takeSeat(room, seat) { return this.#request(seat === undefined || seat === null ? { type: 'take-seat', room } : { type: 'take-seat', room, seat }); }

  /** Leaves the seat, back to the audience; resolves with `seats`. */
  leaveSeat(room) { return this.#request({ type: 'leave-seat', room }); }

  /** Raises the hand (a listener); resolves with `hand` or `done`. */
  raiseHand(room) { return this.#request({ type: 'raise-hand', room }); }

  lowerHand(room) { return this.#request({ type: 'lower-hand', room }); }

  /** Host: invites a member to a seat (any free one without `seat`); resolves with `done`. */
  invite(room, member, seat) { return this.#request(seat === undefined || seat === null ? { type: 'invite', room, member } : { type: 'invite', room, member, seat }); }

  /** Host: puts `member` on the seat (`null` clears it) and/or locks or unlocks it; resolves with `seats`. */
  setSeat(room, seat, { member, locked } = {}) {
    const message = { type: 'set-seat', room, seat };
    if (member !== undefined) message.member = member;
    if (locked !== undefined) message.locked = locked;
    return this.#request(message);
  }

  /** Host: mutes or unmutes a member's user in the room; resolves with `done` (or the `seats` it causes). */
  mute(room, member, muted = true) { return this.#request({ type: 'mute', room, member, muted }); }

  /** Host: ends every membership of `user` in the room, banning it for `ban` seconds; resolves with `done` (or the `seats` it causes). */
  kick(room, user, { ban, reason } = {}) {
    const message = { type: 'kick', room, user };
    if (ban !== undefined) message.ban = ban;
    if (reason !== undefined) message.reason = reason;
    return this.#request(message);
  }

  /** Host: closes the room for everyone; resolves with `room-closed`. */
  closeRoom(room) { return this.#request({ type: 'close', room }); }

  /** One page of the room's members in member-id order; resolves with `roster` (pass its `next` as `after`). */
  roster(room, { after, limit } = {}) {
    const message = { type: 'roster', room };
    if (after !== undefined) message.after = after;
    if (limit !== undefined) message.limit = limit;
    return this.#request(message);
  }

  /** Every member of the room, paging through `roster` `limit` at a time. */
  async rosterAll(room, { limit = 200 } = {}) {
    const members = [];
    let after;
    for (;;) {
      const page = await this.roster(room, { after, limit });
      members.push(...page.members);
      if (page.next === undefined || page.next === null) return members;
      after = page.next;
    }
  }

  /** Leaves a room; resolves with `left`. While disconnected it just forgets the room (nothing to rejoin). */
  leave(room) {
    const joined = this.rooms.get(room);
    if (joined && !this.#socket) {
      this.rooms.delete(room);
      this.#slots.delete(joined.slot);
      return Promise.resolve({ type: 'left', room });
    }
    return this.#request({ type: 'leave', room });
  }

  /** Says `text` in a room; resolves with this message's own `said` (with its seq). */
  say(room, text) { return this.#request({ type: 'say', room, text }); }

  /** Sends `text` to every connection of user `to`; resolves with `delivered`, rejects with `user-offline`. */
  direct(to, text) { return this.#request({ type: 'direct', to, text }); }

  /** Resolves with `pong`. */
  ping() { return this.#request({ type: 'ping' }); }

  /** Sends one voice frame (an Opus packet) to a joined room; false when not joined or not connected. */
  sendFrame(room, payload) {
    const joined = this.rooms.get(room);
    const socket = this.#socket;
    if (!joined || !socket || socket.readyState !== 1 || !this.#slots.has(joined.slot)) return false;
    socket.send(encodeFrame(joined.slot, payload));
    return true;
  }

  /** Closes the connection for good: no reconnect; pending requests reject. */
  close() {
    if (this.state === 'closed') return;
    const socket = this.#socket;
    this.#socket = null;
    this.state = 'closed';
    if (socket) {
      socket.onmessage = socket.onclose = null;
      try { socket.close(1000); } catch { /* already closed */ }
    }
    this.#failPending(new Error('the client is closed'));
    this.#connecting?.reject(new Error('the client is closed'));
    this.#connecting = null;
    this.#finish();
  }

  #finish(why = {}) {
    clearInterval(this.#pingTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.state = 'closed';
    this.closeCode = why.code ?? null;
    this.closeReason = why.reason ?? null;
    this.#emit('state', { state: 'closed' });
    this.#emit('close', why);
  }
}
