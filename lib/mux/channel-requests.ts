/**
 * Per-channel request bookkeeping (RFC 4254 §5.4): replies to our requests matched FIFO, and the
 * peer's requests run one at a time in arrival order, each answered before the next starts. Each
 * channel has its own queue, so a slow handler on one channel never delays another. Also the
 * RFC 4254 §6.10 exit request a closing channel sends, and the exit fields a received one carries.
 */
import { ProtocolError } from '../errors.js';
import { encodeFields } from '../codec/schema.js';
import { ExitSignalRequest, ExitStatusRequest } from '../codec/messages/session-requests.js';
import type { ChannelCloseInfo, ChannelCloseOptions } from './channel-types.js';
import type { ChannelRequestEvent } from './events.js';

/** Most requests a peer may have waiting on one channel; beyond it the peer is flooding. */
const maxQueuedRequests = 1024;

/** RFC 4254 §6.10: the exit-status or exit-signal request that `channel.close(options)` sends before CLOSE. */
export function exitRequest(options: ChannelCloseOptions): { requestType: string; data: Uint8Array } {
  if ('exitStatus' in options) {
    return { requestType: 'exit-status', data: encodeFields(ExitStatusRequest, { exitStatus: options.exitStatus }) };
  }
  const { exitSignal, coreDumped = false, errorMessage = '' } = options;
  return { requestType: 'exit-signal', data: encodeFields(ExitSignalRequest, { exitSignal, coreDumped, errorMessage, languageTag: '' }) };
}

/** RFC 4254 §6.10: the fields of a received exit-status or exit-signal that `channel.closed` reports. */
export function exitFields(event: ChannelRequestEvent): Omit<ChannelCloseInfo, 'closedBy'> {
  const fields: Omit<ChannelCloseInfo, 'closedBy'> = {};
  for (const key of ['exitStatus', 'exitSignal', 'coreDumped', 'errorMessage'] as const) {
    if (event[key] !== undefined) (fields as Record<string, unknown>)[key] = event[key];
  }
  return fields;
}

/** One queued inbound request: run the handler, then respond with its outcome. */
export interface QueuedRequest {
  run(): Promise<boolean>;
  respond(success: boolean): void;
}

/**
 * The peer's channel requests waiting (queued or running) across every channel of one session,
 * counted and in bytes of request data: a flood spread over many channels, each under its own
 * bound, still ends at this one.
 */
export class RequestBudget {
  readonly maxRequests: number;
  readonly maxBytes: number;
  #requests = 0;
  #bytes = 0;

  constructor(maxRequests: number, maxBytes: number) {
    this.maxRequests = maxRequests;
    this.maxBytes = maxBytes;
  }

  /** Counts one more waiting request; throws ProtocolError past either bound. */
  take(bytes: number, channel: number): void {
    if (this.#requests >= this.maxRequests) {
      throw new ProtocolError(`Peer has ${this.#requests} unanswered channel requests in this session (channel ${channel}); limit is ${this.maxRequests}`);
    }
    if (this.#bytes + bytes > this.maxBytes) {
      throw new ProtocolError(
        `Peer has ${this.#bytes + bytes} bytes of unanswered channel requests in this session (channel ${channel}); limit is ${this.maxBytes}`,
      );
    }
    this.#requests++;
    this.#bytes += bytes;
  }

  /** A request was answered (or refused at close). */
  give(bytes: number): void {
    this.#requests--;
    this.#bytes -= bytes;
  }

  /** Requests waiting now. */
  get requests(): number {
    return this.#requests;
  }

  /** Bytes of request data waiting now. */
  get bytes(): number {
    return this.#bytes;
  }
}

/** FIFO of replies we await for requests we sent with want_reply. */
export class ReplyFifo {
  #waiters: Array<{ resolve: (v: boolean) => void; reject: (e: unknown) => void }> = [];

  /** Registers a pending reply; resolves true on SUCCESS, false on FAILURE. */
  expect(): Promise<boolean> {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** A SUCCESS/FAILURE arrived; returns false when nothing was pending (unsolicited, ignored). */
  settle(success: boolean): boolean {
    const w = this.#waiters.shift();
    if (w === undefined) return false;
    w.resolve(success);
    return true;
  }

  /** Rejects every pending reply. */
  fail(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }

  get size(): number {
    return this.#waiters.length;
  }
}

/** Runs inbound requests sequentially; `held` pauses dispatch until a handler can exist. */
export class RequestQueue {
  readonly #budget: RequestBudget;
  #items: Array<{ item: QueuedRequest; bytes: number }> = [];
  #running = false;
  #held = true;
  #closed = false;

  /** `budget` is shared by every channel of the session. */
  constructor(budget: RequestBudget) {
    this.#budget = budget;
  }

  /** Adds a request carrying `bytes` of data; throws ProtocolError when the peer has too many waiting. */
  push(item: QueuedRequest, channel: number, bytes: number): void {
    if (this.#closed) return item.respond(false);
    // The running request (shifted off the queue) is unanswered too.
    if (this.#items.length + (this.#running ? 1 : 0) >= maxQueuedRequests) {
      throw new ProtocolError(`Peer has ${maxQueuedRequests} unanswered requests on channel ${channel}`);
    }
    this.#budget.take(bytes, channel);
    this.#items.push({ item, bytes });
    this.#kick();
  }

  /** Starts dispatching (a handler is set, or the application had its chance to set one). */
  release(): void {
    this.#held = false;
    this.#kick();
  }

  /** Answers every waiting request with failure and refuses new ones. */
  close(): void {
    this.#closed = true;
    const items = this.#items;
    this.#items = [];
    for (const { item, bytes } of items) {
      this.#budget.give(bytes);
      item.respond(false);
    }
  }

  #kick(): void {
    if (this.#running || this.#held || this.#items.length === 0) return;
    this.#running = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    while (!this.#held && this.#items.length > 0) {
      const { item, bytes } = this.#items.shift()!;
      let ok = false;
      try {
        ok = await item.run();
      } catch {
        ok = false;
      }
      this.#budget.give(bytes);
      item.respond(ok);
    }
    this.#running = false;
  }
}

/**
 * Channels handed to their owner start dispatching requests a macrotask later, so the owner can
 * set `onRequest` first. One timer serves every channel handed over meanwhile (a timer per
 * channel would cost more than the rest of an open).
 */
export class DeliveryBatch {
  #pending: Array<{ deliver(): void }> = [];

  /** Calls `channel.deliver()` on the next macrotask. */
  add(channel: { deliver(): void }): void {
    if (this.#pending.push(channel) > 1) return;
    setTimeout(() => {
      const pending = this.#pending;
      this.#pending = [];
      for (const c of pending) c.deliver();
    }, 0);
  }
}
