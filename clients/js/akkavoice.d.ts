// Types of akkavoice.js, the AkkaVoice client (PROTOCOL.md v1.2).

export declare const SUBPROTOCOL: 'akkavoice.v1';
/** The close code of the server API's `disconnect`: the client does not reconnect after it. */
export declare const CLOSE_DISCONNECTED: 4001;

/** A WebSocket class: the browser's, or the `ws` package's in Node.js (binaryType `arraybuffer`, onmessage/onclose, send, close). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => object;

export interface VoiceClientOptions {
  /** Node base URLs (http, https, ws or wss; an empty path means `/ws`), tried in turn. */
  urls: string | string[];
  /** Development mode: the user id, sent as `?user=`. */
  user?: string;
  /** A JWT, sent as `?access_token=` (wins over `user`). */
  token?: string;
  /** A WebSocket constructor; default `globalThis.WebSocket`. In Node.js 20 pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** Milliseconds between the client's pings (default 10000). */
  pingInterval?: number;
  /** After a ping, no traffic for this many ms means the node is silent: move on (default 5000). */
  silentTimeout?: number;
  /** No `welcome` within this many ms of opening: move on (default 10000). */
  connectTimeout?: number;
  /** Milliseconds to wait for the answer to a request (default 10000). */
  requestTimeout?: number;
  /** Reconnect after a loss (default true). */
  reconnect?: boolean;
  /** Backoff: the first retry goes at once (to the next URL), the second waits initialDelay (default 250 ms), doubling up to maxDelay (default 10000 ms), minus up to `jitter` (0-1, default 0.5) of it at random. */
  initialDelay?: number;
  maxDelay?: number;
  jitter?: number;
  /** After a rejoin, how long to wait for the seat held before the loss to be freed by its old membership (default 15000 ms). */
  seatReclaimTimeout?: number;
  /** The random source of the jitter (default Math.random). */
  random?: () => number;
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export type Role = 'host' | 'member' | 'speaker' | 'listener';
export type RoomKind = 'open' | 'stage';
export type SeatMode = 'request' | 'free';
export type LeftReason = 'left' | 'closed' | 'kicked' | 'node-lost' | 'room-closed' | 'left-seat';

export interface Member { member: number; user: string; role?: Role; seat?: number; }
export interface Seat { seat: number; user?: string; member?: number; locked: boolean; muted: boolean; }
export interface StageOptions { seats?: number; seatMode?: SeatMode; }
export interface Welcome { type: 'welcome'; user: string; session: string; node: string; }
export interface Joined {
  type: 'joined'; room: string; slot: number; member: number; seq: number;
  /** In a stage room: hosts and speakers only. */
  members: Member[]; recovered?: boolean; ref?: string;
  kind?: RoomKind; role?: Role;
  seats?: Seat[]; seatsVersion?: number; seatMode?: SeatMode;
  /** The number of listeners (stage rooms). */
  audience?: number;
  /** Raised hands, for a host. */
  hands?: Member[];
}
export interface Left { type: 'left'; room: string; ref?: string; }
export interface MemberEvent { type: 'member-joined' | 'member-left'; room: string; member: number; user: string; role?: Role; reason?: LeftReason; }
export interface Seats { type: 'seats'; room: string; version: number; seats: Seat[]; ref?: string; }
export interface Hand { type: 'hand'; room: string; member: number; user: string; raised: boolean; ref?: string; }
export interface Invited { type: 'invited'; room: string; seat?: number; by: string; }
export interface Muted { type: 'muted'; room: string; muted: boolean; by: string; }
export interface Kicked { type: 'kicked'; room: string; by: string; reason?: string; }
export interface RoomClosed { type: 'room-closed'; room: string; reason: 'closed' | 'deleted'; ref?: string; }
export interface RoleChanged { type: 'role'; room: string; member: number; user: string; role: Role; }
export interface Audience { type: 'audience'; room: string; count: number; }
export interface Done { type: 'done'; room: string; ref?: string; }
export interface Roster { type: 'roster'; room: string; members: Member[]; next?: number; ref?: string; }
export interface Said { type: 'said'; room: string; member: number; user: string; text: string; seq: number; ref?: string; }
export interface Direct { type: 'direct'; from: string; text: string; }
export interface Delivered { type: 'delivered'; to: string; ref?: string; }
export interface Pong { type: 'pong'; ref?: string; }
export interface ServerError { type: 'error'; code: string; message: string; ref?: string; room?: string; }

export interface Frame {
  room: string;
  slot: number;
  /** The speaker's member id. */
  member: number;
  /** The speaker's user id, when the member is known. */
  user?: string;
  /** The payload exactly as the speaker sent it (usually one Opus packet). */
  payload: Uint8Array;
}

export interface JoinedRoom {
  room: string;
  slot: number;
  member: number;
  /** The last `said` seq seen; a rejoin asks for everything after it. */
  seq: number;
  members: Map<number, string>;
  /** Each known member's role. */
  roles: Map<number, Role>;
  kind: RoomKind;
  /** This membership's role. */
  role: Role;
  /** The seat list of the highest `seats` version seen (empty in an open room). */
  seats: Seat[];
  seatsVersion: number;
  /** This membership's seat, or null. */
  seat: number | null;
  seatMode: SeatMode | null;
  /** The number of listeners. */
  audience: number;
  /** Raised hands (kept for hosts): member to user. */
  hands: Map<number, string>;
  /** Whether a host muted this user in the room. */
  muted: boolean;
}

export interface Reconnecting { attempt: number; delay: number; url: string; reason: string; }
export interface Rejoined {
  room: string; slot: number; member: number; recovered: boolean; missed: number; role: Role;
  /** The seat held before the loss, when there was one. */
  seat?: number;
  /** What became of it: taken back, lost (someone else on it, locked, or refused) or the room gone. */
  seatBack?: 'taken-back' | 'lost' | 'gone';
}
export interface Recovered { node: string; url: string; rooms: (Rejoined | { room: string; failed: true })[]; }

export interface VoiceClientEvents {
  state: { state: ClientState };
  welcome: Welcome;
  joined: Joined;
  left: Left;
  'member-joined': MemberEvent;
  'member-left': MemberEvent;
  /** A newer seat list (older versions are ignored). */
  seats: Seats;
  hand: Hand;
  invited: Invited;
  muted: Muted;
  /** Out of the room for good (it is not rejoined). */
  kicked: Kicked;
  'room-closed': RoomClosed;
  role: RoleChanged;
  audience: Audience;
  done: Done;
  said: Said;
  direct: Direct;
  frame: Frame;
  /** An `error` that answers no pending request, or a room that could not be rejoined. */
  error: ServerError;
  /** Every text message from the server, parsed. */
  message: { type: string; [key: string]: unknown };
  disconnected: { url: string; reason: string; code?: number };
  reconnecting: Reconnecting;
  /** One room joined again after a reconnect (`recovered`: the missed chat was replayed). */
  rejoined: Rejoined;
  /** Every room rejoined after a reconnect. */
  recovered: Recovered;
  /** The client is closed: by `close()` (no code), by the server API's disconnect (`code` 4001, with its reason), or after a loss without `reconnect`. */
  close: { code?: number; reason?: string };
}

export declare class AkkaVoiceError extends Error {
  readonly code: string;
  readonly ref?: string;
}

export declare class VoiceClient {
  constructor(options: VoiceClientOptions);
  readonly state: ClientState;
  readonly node: string | null;
  readonly session: string | null;
  readonly user: string | null;
  /** The node base URL in use. */
  readonly url: string | null;
  readonly urls: string[];
  readonly rooms: Map<string, JoinedRoom>;
  /** Why the client closed: the close code (4001 from the server API's disconnect) and reason; null while open or after `close()`. */
  readonly closeCode: number | null;
  readonly closeReason: string | null;
  on<K extends keyof VoiceClientEvents>(type: K, listener: (event: VoiceClientEvents[K]) => void): () => void;
  off<K extends keyof VoiceClientEvents>(type: K, listener: (event: VoiceClientEvents[K]) => void): void;
  /** Resolves with the first `welcome`; keeps trying the URLs (with backoff) until one answers, unless `reconnect` is false. */
  connect(): Promise<Welcome>;
  /** With `stage`, a host creates a stage room when the room has no members and no configuration. */
  join(room: string, options?: { since?: number; stage?: StageOptions }): Promise<Joined>;
  /** Resolves with the `seats` it causes, or `done` when nothing changed (the seat was already this member's). */
  takeSeat(room: string, seat?: number): Promise<Seats | Done>;
  leaveSeat(room: string): Promise<Seats | Done>;
  raiseHand(room: string): Promise<Hand | Done>;
  lowerHand(room: string): Promise<Hand | Done>;
  invite(room: string, member: number, seat?: number): Promise<Done>;
  setSeat(room: string, seat: number, options?: { member?: number | null; locked?: boolean }): Promise<Seats | Done>;
  /** Resolves with `done`, or with the `seats` it causes when the member is on a seat. */
  mute(room: string, member: number, muted?: boolean): Promise<Done | Seats>;
  kick(room: string, user: string, options?: { ban?: number; reason?: string }): Promise<Done | Seats>;
  /** Closes the room for every member (a host). */
  closeRoom(room: string): Promise<RoomClosed>;
  roster(room: string, options?: { after?: number; limit?: number }): Promise<Roster>;
  /** Every member, through as many `roster` pages as it takes. */
  rosterAll(room: string, options?: { limit?: number }): Promise<Member[]>;
  leave(room: string): Promise<Left>;
  say(room: string, text: string): Promise<Said>;
  direct(to: string, text: string): Promise<Delivered>;
  ping(): Promise<Pong>;
  sendFrame(room: string, payload: Uint8Array): boolean;
  close(): void;
}

export declare function socketUrl(base: string, identity?: { user?: string; token?: string }): string;
export declare function backoffDelay(attempt: number, options?: { initialDelay?: number; maxDelay?: number; jitter?: number }, random?: () => number): number;
export declare function encodeFrame(slot: number, payload: Uint8Array): Uint8Array;
export declare function decodeFrame(data: ArrayBuffer | Uint8Array): { slot: number; member: number; payload: Uint8Array } | null;
