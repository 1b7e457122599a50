/**
 * The outbound half of a transport connection (RFC 4253 §6, §7.1): seals messages onto the byte
 * stream through the packet writer, holds messages that wait at the kex gate, and turns the
 * stream's progress into the backpressure of `send`. Deciding *when* the gate is open is the
 * transport's business; with session reconnection on, every packet passes the reconnect state.
 */
import { MessageType } from '../codec/messages/transport.js';
import { concatBytes } from '../codec/wire.js';
import { type PacketWriter, type Wire, wireLength } from './packet-writer.js';
import type { ReconnectState } from './reconnect/reconnect-state.js';
import type { Tracer } from '../trace/tracer.js';

const resolved = Promise.resolve();
/** A queue entry that holds everything behind it until `release` (see `hold`). */
const BARRIER = new Uint8Array(0);
/** Bytes of sealed packets allowed to wait for the byte stream before `send` pushes back. */
const SEND_HIGH_WATER_MARK = 256 * 1024;
/** Sealed packets below this size wait for the end of the turn and leave together. */
const SMALL_PACKET = 2048;

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** What an Outbound reports to its transport. */
export interface OutboundHost {
  /** A write to the byte stream failed. */
  streamFailed(error: unknown): void;
  /** Server: USERAUTH_SUCCESS (or a message marked with `startsCompression`) was just sealed. */
  authenticationSucceeded(): void;
  /** With reconnection on: a failing stream does not fail sends unless the transport ended. */
  survivable(error: unknown): void;
}

/** Sealing, queuing and push-back for one connection. */
export class Outbound {
  readonly writer: PacketWriter;
  readonly #host: OutboundHost;
  readonly #reconnect: ReconnectState | undefined;
  /** Set only while tracing is on: the one check per message when it is off. */
  trace: Tracer | undefined;
  #byteWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #queue: (Waiter & { payload: Uint8Array })[] = [];
  /** Bytes written to the byte stream whose write has not completed. */
  #unflushed = 0;
  #drainWaiters: Waiter[] = [];
  /** Small sealed packets of this turn, not yet handed to the byte stream (see `#emit`). */
  #pending: Uint8Array[] = [];
  #flushScheduled = false;
  /** Payload bytes of the messages held at the kex gate. */
  #queuedBytes = 0;
  /** The read loop, paused until `#unflushed` falls to `limit` (see `whenUnflushedBelow`). */
  #reading: { limit: number; resume: () => void } | undefined;
  /** Server: USERAUTH_SUCCESS not yet sent, so each outbound packet is checked for it. */
  #awaitingAuthenticationSuccess: boolean;
  /** A message after which delayed compression starts (the reconnect SUCCESS), until it is sealed. */
  #compressionTrigger: Uint8Array | undefined;
  /** Barriers not yet released. */
  #holds = 0;

  constructor(writer: PacketWriter, options: { host: OutboundHost; reconnect: ReconnectState | undefined; isServer: boolean }) {
    this.writer = writer;
    this.#host = options.host;
    this.#reconnect = options.reconnect;
    this.#awaitingAuthenticationSuccess = options.isServer;
  }

  /** True while a byte stream is attached. */
  get attached(): boolean {
    return this.#byteWriter !== undefined;
  }

  /** Messages waiting at the kex gate. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Bytes of sealed packets handed to the byte stream whose write has not completed. */
  get unflushed(): number {
    return this.#unflushed;
  }

  /** Payload bytes of the messages waiting at the kex gate (or behind a hold). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Resolves once at most `limit` sealed bytes wait for the byte stream, or the outbound failed;
   * the read loop pauses on it (one waiter at a time).
   */
  whenUnflushedBelow(limit: number): Promise<void> {
    if (this.#unflushed <= limit) return resolved;
    return new Promise((resume) => (this.#reading = { limit, resume }));
  }

  /** Starts writing to `byteWriter`. */
  attach(byteWriter: WritableStreamDefaultWriter<Uint8Array>): void {
    this.#byteWriter = byteWriter;
  }

  /** Stops writing; returns the writer so the caller can close or abort it. */
  detach(): WritableStreamDefaultWriter<Uint8Array> | undefined {
    // What waits for the end of the turn (a DISCONNECT, say) goes out before the writer is let go.
    if (this.#byteWriter !== undefined) this.#writePending();
    const writer = this.#byteWriter;
    this.#byteWriter = undefined;
    return writer;
  }

  /** Writes bytes outside the packet protocol (the identification line). */
  writeRaw(bytes: Uint8Array): void {
    this.#writePending();
    this.#byteWriter!.write(bytes).catch((e) => this.#host.streamFailed(e));
  }

  /** RFC 4253 §6: seals one message and hands it to the byte stream. */
  write(message: Uint8Array): void {
    this.#emit(this.#seal(message));
  }

  /**
   * Seals several messages in order and hands them to the byte stream as one chunk, so they
   * leave together (RFC 8308 §2.4: NEWKEYS and the EXT_INFO that must follow it).
   */
  writeTogether(messages: readonly Uint8Array[]): void {
    this.#emit(concatBytes(...messages.flatMap((m) => this.#seal(m))));
  }

  #seal(message: Uint8Array): Wire {
    // Read before sealing: a payload from `allocatePayload` is encrypted where it lies (or reused).
    const isAuthenticationSuccess =
      (this.#awaitingAuthenticationSuccess && message[0] === MessageType.UserauthSuccess) || message === this.#compressionTrigger;
    if (this.trace !== undefined) this.trace.outbound(message);
    const payload = this.#reconnect === undefined ? message : this.#reconnect.outbound(message);
    const wire = this.writer.writePieces(payload);
    if (isAuthenticationSuccess) {
      this.#awaitingAuthenticationSuccess = false;
      this.#compressionTrigger = undefined;
      this.#host.authenticationSucceeded();
    }
    return wire;
  }

  /**
   * Small packets sealed in one turn (a burst of channel opens, window adjusts, replies) wait for
   * the turn's end and reach the byte stream as one chunk: one stream write and one socket write
   * instead of one each. A larger packet first lets the waiting ones go, so the order holds.
   */
  #emit(wire: Wire): void {
    const n = wireLength(wire);
    this.#unflushed += n;
    if (n < SMALL_PACKET && this.#byteWriter !== undefined) {
      if (Array.isArray(wire)) this.#pending.push(...wire);
      else this.#pending.push(wire);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(this.#endOfTurn);
      }
      return;
    }
    this.#writePending();
    // A packet sealed into pieces (PacketWriter.writePieces) goes out one piece after another.
    if (!Array.isArray(wire)) return this.#writeChunk(wire);
    for (const piece of wire) this.#writeChunk(piece);
  }

  readonly #endOfTurn = (): void => {
    this.#flushScheduled = false;
    this.#writePending();
  };

  #writePending(): void {
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    this.#writeChunk(pending.length === 1 ? pending[0]! : concatBytes(...pending));
  }

  /** Hands `wire` (already counted in `#unflushed`) to the byte stream. */
  #writeChunk(wire: Uint8Array): void {
    const n = wire.length;
    this.#byteWriter!.write(wire).then(
      () => this.#flushed(n),
      (e) => this.#host.streamFailed(e),
    );
  }

  /**
   * Resolves while fewer than SEND_HIGH_WATER_MARK bytes wait for the byte stream, counted here
   * because streams that count chunks (Node's Duplex.toWeb counts 16384 of them) never push back.
   */
  ready(): Promise<void> {
    const w = this.#byteWriter!;
    if (this.#unflushed < SEND_HIGH_WATER_MARK) {
      if (w.desiredSize !== null && w.desiredSize > 0) return resolved;
      return this.#reconnect?.negotiated ? w.ready.catch((e) => this.#host.survivable(e)) : w.ready;
    }
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /**
   * Delayed compression starts right after `message` is sealed, wherever it waits until then
   * (the kex gate, a hold), as it does after USERAUTH_SUCCESS.
   */
  startsCompression(message: Uint8Array): void {
    this.#compressionTrigger = message;
  }

  /** Holds a message until the gate opens; the promise settles once it went out (or failed). */
  enqueue(payload: Uint8Array): Promise<void> {
    this.#queuedBytes += payload.length;
    return new Promise((resolve, reject) => this.#queue.push({ payload, resolve, reject }));
  }

  /**
   * Holds every message sent from now on (queued, in order) until the returned function is
   * called; `send` sees a non-empty queue, so the fast path stays as it is.
   */
  hold(): () => void {
    this.#holds++;
    this.#queue.push({ payload: BARRIER, resolve: () => {}, reject: () => {} });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds = Math.max(0, this.#holds - 1);
    };
  }

  /** Writes held messages while `open()` says the gate is open; `afterEach` runs after each. */
  flush(open: () => boolean, afterEach: () => void): void {
    while (this.#queue.length > 0 && open()) {
      if (this.#queue[0]!.payload === BARRIER) {
        if (this.#holds > 0) return;
        this.#queue.shift();
        continue;
      }
      const item = this.#queue.shift()!;
      this.#queuedBytes -= item.payload.length;
      this.write(item.payload);
      this.ready().then(item.resolve, item.reject);
      afterEach();
    }
  }

  /** Hands every held message to `take` and releases its sender and every drain waiter. */
  releaseAll(take: (payload: Uint8Array) => void): void {
    this.#queuedBytes = 0;
    for (const item of this.#queue.splice(0)) {
      if (item.payload !== BARRIER) take(item.payload);
      item.resolve();
    }
    this.#holds = 0;
    for (const waiter of this.#drainWaiters.splice(0)) waiter.resolve();
  }

  /** Rejects every held message and drain waiter with `error`. */
  failAll(error: unknown): void {
    this.#queuedBytes = 0;
    for (const item of this.#queue.splice(0)) item.reject(error);
    for (const waiter of this.#drainWaiters.splice(0)) waiter.reject(error);
    this.#resumeReading();
  }

  #resumeReading(): void {
    const reading = this.#reading;
    this.#reading = undefined;
    reading?.resume();
  }

  #flushed(n: number): void {
    this.#unflushed -= n;
    if (this.#reading !== undefined && this.#unflushed <= this.#reading.limit) this.#resumeReading();
    if (this.#unflushed >= SEND_HIGH_WATER_MARK || this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  }
}
