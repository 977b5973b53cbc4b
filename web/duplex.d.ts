// Types of duplex.js, the client of duplexd's hub protocol (docs/protocol.md).

/** Any JSON value: what a publication carries. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The connect result. */
export interface ConnectInfo {
  client: string;
  user: string;
  /** Unix seconds at which the token runs out; 0 for a token without `exp`. */
  expires?: number;
  [key: string]: unknown;
}

export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface Publication<T = Json> {
  channel: string;
  offset: number;
  data: T;
  /** Set on what a subscribe reply carried (`last` or a recovery) rather than a live push. */
  replayed?: true;
}

export interface SubscribeResult<T = Json> extends StreamPosition {
  recovered?: boolean;
  publications?: { offset: number; data: T }[];
}

export interface HistoryResult<T = Json> extends StreamPosition {
  publications: { offset: number; data: T }[];
}

export interface PresenceResult {
  clients: Record<string, { user: string }>;
}

export interface ClientInfo {
  channel: string;
  client: string;
  user: string;
}

export interface RecoveryFailed {
  channel: string;
  epoch: string;
  offset: number;
}

export interface SubscribeOptions {
  onRecoveryFailed?: (lost: RecoveryFailed) => void;
  onJoin?: (event: ClientInfo) => void;
  onLeave?: (event: ClientInfo) => void;
  /** Start by recovering from this position. */
  since?: StreamPosition;
  /** Start with the newest N stored publications, delivered before any live one. */
  last?: number;
}

export interface PublishOptions {
  /** Idempotency key; one is made up when absent. */
  key?: string;
}

/** A WebSocket constructor: the browser's, or the `ws` package's in Node. */
export type WebSocketConstructor = new (url: string) => {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  [key: string]: any;
};

export interface DuplexClientOptions {
  /** Default: globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** A token, or a function called before every connect that returns one. */
  token?: string | (() => string | Promise<string>);
  /** Reconnect backoff, default 200 / 10000. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** How long subscribe/history/presence/ping wait for a reply, default 10000. */
  timeoutMs?: number;
  /** Prefix of idempotency keys. */
  clientId?: string;
}

export type ClientState = 'disconnected' | 'connecting' | 'connected' | 'closed';

export interface DuplexEvents {
  state: { state: ClientState };
  connect: ConnectInfo;
  disconnect: { code: number; reason: string };
  publication: Publication;
  join: ClientInfo;
  leave: ClientInfo;
  recoveryFailed: RecoveryFailed;
  gap: { channel: string; from: number; to: number };
  error: DuplexError;
}

/** An error reply of the hub (its stable `code`), or a local failure: `disconnected`, `closed`,
 * `timeout`. */
export class DuplexError extends Error {
  constructor(code: string, message: string);
  readonly name: 'DuplexError';
  readonly code: string;
  /** The hub's words, for people (the code is for programs). */
  readonly reason: string;
}

export class DuplexClient {
  constructor(url: string, options?: DuplexClientOptions);
  readonly url: string;
  readonly state: ClientState;
  /** The connect result, once connected. */
  readonly info: ConnectInfo | null;
  readonly clientId: string;

  /** Returns a function that removes the listener. */
  on<E extends keyof DuplexEvents>(event: E, listener: (value: DuplexEvents[E]) => void): () => void;
  connect(): Promise<ConnectInfo>;
  close(): void;
  subscribe<T = Json>(channel: string, onPublication?: (publication: Publication<T>) => void,
    options?: SubscribeOptions): Promise<SubscribeResult<T>>;
  unsubscribe(channel: string): Promise<object>;
  publish(channel: string, data: Json, options?: PublishOptions): Promise<StreamPosition>;
  history<T = Json>(channel: string, options?: { since?: StreamPosition; limit?: number }):
    Promise<HistoryResult<T>>;
  presence(channel: string): Promise<PresenceResult>;
  /** A call answered by the server's back end (its rpc proxy); resolves with the answer's data. */
  rpc<T = Json>(method: string, data?: Json): Promise<T>;
  ping(): Promise<object>;
}
