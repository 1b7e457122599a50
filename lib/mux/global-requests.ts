/**
 * Global requests (RFC 4254 §4) on one connection: ours are answered FIFO, so each reply settles
 * the oldest request that wanted one (keepalives included, so they never steal another reply);
 * the peer's run concurrently but are answered in arrival order. Routing to handlers and services
 * is the connection's; this file only keeps the order.
 */
import { ProtocolError } from '../errors.js';
import { encode } from '../codec/schema.js';
import { GlobalRequest, RequestFailure, RequestSuccess } from '../codec/messages/connection.js';

/** Most peer requests awaiting their reply at once; beyond it the peer is flooding. */
const maxPendingInbound = 1024;
const noop = (): void => {};
const failed: GlobalRequestReply = { success: false, data: new Uint8Array(0) };

/** A global request we send (RFC 4254 §4). */
export interface GlobalRequestOptions {
  requestType: string;
  wantReply?: boolean;
  data?: Uint8Array;
}

/** The peer's answer: success plus any request-specific response data (e.g. a bound port). */
export interface GlobalRequestReply {
  success: boolean;
  data: Uint8Array;
}

/** Sends our global requests and orders the replies to the peer's. */
export class GlobalRequests {
  readonly #send: (payload: Uint8Array) => Promise<void>;
  #waiters: Array<{ resolve: (r: GlobalRequestReply) => void; reject: (e: unknown) => void }> = [];
  #replies: Promise<void> = Promise.resolve();
  #inbound = 0;
  #error: unknown;

  constructor(send: (payload: Uint8Array) => Promise<void>) {
    this.#send = send;
  }

  /** RFC 4254 §4: sends a request; without want_reply resolves `{ success: true }` once queued. */
  async request(options: GlobalRequestOptions): Promise<GlobalRequestReply> {
    if (this.#error !== undefined) throw this.#error;
    const { requestType, wantReply = false, data = new Uint8Array(0) } = options;
    let reply: Promise<GlobalRequestReply> | undefined;
    if (wantReply) {
      reply = new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      reply.catch(noop);
    }
    await this.#send(encode(GlobalRequest, { requestName: requestType, wantReply, data }));
    return reply ?? { success: true, data: new Uint8Array(0) };
  }

  /** REQUEST_SUCCESS/FAILURE arrived; returns false when none was pending (unsolicited, dropped). */
  replied(success: boolean, data: Uint8Array): boolean {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return false;
    waiter.resolve({ success, data });
    return true;
  }

  /** Requests of ours still waiting for a reply. */
  get pending(): number {
    return this.#waiters.length;
  }

  /**
   * Runs `handle` for a peer request now and sends its reply after the replies to earlier requests.
   * `handle` returns success and optional response data, or a promise of them. A reply known at
   * once with none waiting before it goes out at once; only replies that wait (on a handler or on
   * an earlier reply) count against the bound of pending requests.
   */
  received(wantReply: boolean, handle: () => GlobalRequestReply | Promise<GlobalRequestReply>): void {
    let result: GlobalRequestReply | Promise<GlobalRequestReply>;
    try {
      result = handle();
    } catch {
      result = failed;
    }
    if (!wantReply) {
      if (result instanceof Promise) result.catch(noop);
      return;
    }
    if (!(result instanceof Promise) && this.#inbound === 0) return this.#reply(result);
    if (this.#inbound >= maxPendingInbound) {
      throw new ProtocolError(`Peer has ${maxPendingInbound} unanswered global requests`);
    }
    const outcome = Promise.resolve(result).catch(() => failed);
    this.#inbound++;
    this.#replies = this.#replies.then(async () => {
      const reply = await outcome;
      this.#inbound--;
      this.#reply(reply);
    });
  }

  #reply({ success, data }: GlobalRequestReply): void {
    if (this.#error !== undefined) return;
    const payload = success ? encode(RequestSuccess, { data }) : encode(RequestFailure, {});
    this.#send(payload).catch(noop);
  }

  /** Rejects our pending requests; replies to the peer are no longer sent. */
  fail(error: unknown): void {
    if (this.#error === undefined) this.#error = error;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }
}
