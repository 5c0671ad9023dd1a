// Types of akkavoice.js, the AkkaVoice client (PROTOCOL.md v1.1).

export declare const SUBPROTOCOL: 'akkavoice.v1';

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
  /** The random source of the jitter (default Math.random). */
  random?: () => number;
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Member { member: number; user: string; }
export interface Welcome { type: 'welcome'; user: string; session: string; node: string; }
export interface Joined { type: 'joined'; room: string; slot: number; member: number; seq: number; members: Member[]; recovered?: boolean; ref?: string; }
export interface Left { type: 'left'; room: string; ref?: string; }
export interface MemberEvent { type: 'member-joined' | 'member-left'; room: string; member: number; user: string; }
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
}

export interface Reconnecting { attempt: number; delay: number; url: string; reason: string; }
export interface Rejoined { room: string; slot: number; member: number; recovered: boolean; missed: number; }
export interface Recovered { node: string; url: string; rooms: (Rejoined | { room: string; failed: true })[]; }

export interface VoiceClientEvents {
  state: { state: ClientState };
  welcome: Welcome;
  joined: Joined;
  left: Left;
  'member-joined': MemberEvent;
  'member-left': MemberEvent;
  said: Said;
  direct: Direct;
  frame: Frame;
  /** An `error` that answers no pending request, or a room that could not be rejoined. */
  error: ServerError;
  /** Every text message from the server, parsed. */
  message: { type: string; [key: string]: unknown };
  disconnected: { url: string; reason: string };
  reconnecting: Reconnecting;
  /** One room joined again after a reconnect (`recovered`: the missed chat was replayed). */
  rejoined: Rejoined;
  /** Every room rejoined after a reconnect. */
  recovered: Recovered;
  close: Record<string, never>;
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
  on<K extends keyof VoiceClientEvents>(type: K, listener: (event: VoiceClientEvents[K]) => void): () => void;
  off<K extends keyof VoiceClientEvents>(type: K, listener: (event: VoiceClientEvents[K]) => void): void;
  /** Resolves with the first `welcome`; keeps trying the URLs (with backoff) until one answers, unless `reconnect` is false. */
  connect(): Promise<Welcome>;
  join(room: string, options?: { since?: number }): Promise<Joined>;
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
