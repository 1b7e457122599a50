/**
 * Two Connections wired back to back in memory: each side's transport queues payloads (copied, as
 * a wire would) and delivers them to the other side's handleMessage on a later macrotask, with a
 * bounded queue for backpressure. A monitor re-checks the RFC 4254 §5.2 window from the wire alone.
 */
import { SessionConfig } from '../../lib/config.js';
import { Connection, type ConnectionTransport } from '../../lib/mux/connection.js';
import { concatBytes } from '../../lib/codec/wire.js';

/** One direction of the in-memory link. */
export class Link implements ConnectionTransport {
  target: Connection | undefined;
  /** Every payload sent, in order (copies). */
  readonly log: Uint8Array[] = [];
  /** Errors thrown by the receiver's handleMessage (a session would DISCONNECT). */
  readonly errors: Error[] = [];
  onError: ((error: Error) => void) | undefined;
  onPayload: ((payload: Uint8Array) => void) | undefined;
  /** When set, payloads are held (not delivered) until `resume()`. */
  paused = false;
  readonly #queue: Uint8Array[] = [];
  readonly #highWaterMark: number;
  #drainWaiters: Array<() => void> = [];
  #scheduled = false;
  #closed: Error | undefined;

  constructor(highWaterMark = 64) {
    this.#highWaterMark = highWaterMark;
  }

  send(payload: Uint8Array): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const copy = payload.slice();
    this.log.push(copy);
    this.onPayload?.(copy);
    this.#queue.push(copy);
    this.#schedule();
    if (this.#queue.length < this.#highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Delivers a raw payload to the receiver as if the peer had sent it. */
  inject(payload: Uint8Array): void {
    this.#queue.push(payload);
    this.#schedule();
  }

  resume(): void {
    this.paused = false;
    this.#schedule();
  }

  close(error: Error): void {
    this.#closed = error;
    this.#queue.length = 0;
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  #schedule(): void {
    if (this.#scheduled || this.paused) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0 && !this.paused && this.#closed === undefined) {
      const payload = this.#queue.shift()!;
      try {
        this.target!.handleMessage(payload);
      } catch (error) {
        this.errors.push(error as Error);
        this.onError?.(error as Error);
      }
    }
    if (this.#queue.length < this.#highWaterMark) for (const w of this.#drainWaiters.splice(0)) w();
  }
}

/** Options of `connectionPair`. */
export interface PairOptions {
  client?: SessionConfig;
  server?: SessionConfig;
  highWaterMark?: number;
  /** Close both sides with the receiver's ProtocolError, as a session would (default true). */
  disconnectOnError?: boolean;
  clientPeerExtensions?: readonly string[];
  serverPeerExtensions?: readonly string[];
}

/** A client and a server Connection talking through two Links. */
export interface ConnectionPair {
  client: Connection;
  server: Connection;
  /** client -> server */
  toServer: Link;
  /** server -> client */
  toClient: Link;
  monitor: WindowMonitor;
  /** Closes both sides with the same error (session ended). */
  close(error: Error): void;
}

/** Builds a connected pair. */
export function connectionPair(options: PairOptions = {}): ConnectionPair {
  const toServer = new Link(options.highWaterMark);
  const toClient = new Link(options.highWaterMark);
  const clientConfig = options.client ?? SessionConfig.default();
  const serverConfig = options.server ?? SessionConfig.default();
  const client = new Connection(toServer, { config: clientConfig, isServer: false, owner: 'client', peerExtensions: options.clientPeerExtensions });
  const server = new Connection(toClient, { config: serverConfig, isServer: true, owner: 'server', peerExtensions: options.serverPeerExtensions });
  toServer.target = server;
  toClient.target = client;
  const monitor = new WindowMonitor(toServer, toClient);
  const close = (error: Error): void => {
    toServer.close(error);
    toClient.close(error);
    client.close(error);
    server.close(error);
  };
  if (options.disconnectOnError !== false) {
    toServer.onError = close;
    toClient.onError = close;
  }
  return { client, server, toServer, toClient, monitor, close };
}

const u32 = (p: Uint8Array, at: number): number => new DataView(p.buffer, p.byteOffset).getUint32(at);

/** Recomputes each direction's window from the wire and records every violation. */
export class WindowMonitor {
  readonly violations: string[] = [];
  /** Largest credit a receiver ever had outstanding, per direction. */
  maxOutstanding = 0;
  /** key: `${direction}:${recipient}` -> remaining window and max packet at the receiver. */
  readonly #windows = new Map<string, { window: number; maxPacket: number }>();
  /** key: `${sender side}:${its channel}` -> the other side's channel id. */
  readonly #peerOf = new Map<string, number>();
  readonly #opens = new Map<string, { window: number; maxPacket: number }>();

  constructor(toServer: Link, toClient: Link) {
    toServer.onPayload = (p) => this.#seen('c', 's', p);
    toClient.onPayload = (p) => this.#seen('s', 'c', p);
  }

  #seen(from: string, to: string, p: Uint8Array): void {
    switch (p[0]) {
      case 90: {
        // Our channel id `sender` accepts `window` bytes from the other side.
        const typeLength = u32(p, 1);
        const sender = u32(p, 5 + typeLength);
        this.#opens.set(`${from}:${sender}`, { window: u32(p, 9 + typeLength), maxPacket: u32(p, 13 + typeLength) });
        return;
      }
      case 91: {
        const recipient = u32(p, 1);
        const sender = u32(p, 5);
        this.#peerOf.set(`${from}:${sender}`, recipient);
        this.#peerOf.set(`${to}:${recipient}`, sender);
        // Data from `to` to us (`from`, channel `sender`) is bounded by our advertised window.
        this.#windows.set(`${to}>${sender}`, { window: u32(p, 9), maxPacket: u32(p, 13) });
        const open = this.#opens.get(`${to}:${recipient}`);
        if (open !== undefined) this.#windows.set(`${from}>${recipient}`, { ...open });
        return;
      }
      case 93: {
        // `from` grants the other side more window on the other side's channel `recipient`.
        const mine = this.#peerOf.get(`${to}:${u32(p, 1)}`);
        const w = this.#windows.get(`${to}>${mine}`);
        if (w !== undefined) {
          w.window += u32(p, 5);
          this.maxOutstanding = Math.max(this.maxOutstanding, w.window);
        }
        return;
      }
      case 94:
      case 95: {
        const length = p[0] === 94 ? u32(p, 5) : u32(p, 9);
        const w = this.#windows.get(`${from}>${u32(p, 1)}`);
        if (w === undefined) return void this.violations.push(`data on unknown channel ${u32(p, 1)}`);
        if (length > w.maxPacket) this.violations.push(`packet of ${length} exceeds max ${w.maxPacket}`);
        if (length > w.window) this.violations.push(`data of ${length} exceeds window ${w.window}`);
        w.window -= length;
        return;
      }
    }
  }
}

/** Resolves after pending macrotasks (and the link deliveries they trigger) ran `rounds` times. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** A deterministic RNG (mulberry32) for property tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads a stream to the end and concatenates it. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concatBytes(...parts);
}

/** Message type numbers in a link's log. */
export function types(link: Link): number[] {
  return link.log.map((p) => p[0]!);
}

/** A config with the given receive window and maximum packet size. */
export function windowConfig(window: number, packet: number): SessionConfig {
  const c = SessionConfig.default();
  c.maxChannelWindowSize = window;
  c.maxChannelPacketSize = packet;
  return c;
}

/** A connection pair with one channel opened by the client: `c` (client end) and `s` (server end). */
export async function channelPair(options: PairOptions = {}) {
  const pair = connectionPair(options);
  const [c, s] = await Promise.all([pair.client.openChannel(), pair.server.acceptChannel()]);
  return { ...pair, c, s };
}
