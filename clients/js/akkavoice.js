// AkkaVoice client: one ES module for browsers and Node.js 20+ (PROTOCOL.md v1.1, subprotocol akkavoice.v1).
// Rooms, voice frames as Uint8Array, chat, direct messages, keep-alive, and healing: on a lost or silent
// node it reconnects over its list of node URLs (exponential backoff with jitter) and rejoins every room,
// asking with `since` for the chat it missed.
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
    socket.onclose = e => this.#drop(socket, e.code ? `closed ${e.code}${e.reason ? ' ' + e.reason : ''}` : 'closed');
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

  #drop(socket, reason) {
    if (this.#socket !== socket) return;
    this.#socket = null;
    clearInterval(this.#pingTimer);
    this.#pingTimer = null;
    this.#cancel(this.#connectTimer);
    socket.onmessage = socket.onclose = null;
    try { typeof socket.terminate === 'function' ? socket.terminate() : socket.close(); } catch { /* already closed */ }
    this.#failPending(new Error(`connection lost: ${reason}`));
    if (this.state === 'closed') return;
    this.#emit('disconnected', { url: this.url, reason });
    if (!this.#options.reconnect) {
      this.#connecting?.reject(new Error(`cannot connect to ${this.url}: ${reason}`));
      this.#connecting = null;
      this.#finish();
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
        room?.members.set(message.member, message.user);
        this.#emit('member-joined', message);
        break;
      case 'member-left':
        room?.members.delete(message.member);
        this.#emit('member-left', message);
        break;
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
        const joined = await this.#request({ type: 'join', room: r.room, since: r.seq });
        const event = { room: r.room, slot: joined.slot, member: joined.member, recovered: joined.recovered === true, missed: joined.seq - r.seq };
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
    const room = { room: message.room, slot: message.slot, member: message.member, seq, members: new Map() };
    for (const m of message.members ?? []) room.members.set(m.member, m.user);
    this.rooms.set(message.room, room);
    this.#slots.set(message.slot, room);
    this.#emit('joined', message);
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

  /** Joins a room; resolves with `joined`. With `since`, the room's `said` messages after that seq are replayed. */
  join(room, { since } = {}) {
    const message = { type: 'join', room };
    if (since !== undefined) message.since = since;
    return this.#request(message, { since });
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

  #finish() {
    clearInterval(this.#pingTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.state = 'closed';
    this.#emit('state', { state: 'closed' });
    this.#emit('close', {});
  }
}
