/**
 * Channel window accounting (RFC 4254 §5.2) as two small sans-I/O cores: `InboundWindow` keeps
 * `granted + queued <= maxWindow` and decides when consumption is worth a WINDOW_ADJUST;
 * `OutboundWindow` tracks the peer's credit and parks writers at zero. No streams, no timers:
 * `Channel` wires these to its ReadableStream pull() and its writers.
 */
import { ChannelClosedError, ProtocolError } from '../errors.js';

const maxUint32 = 0xffffffff;

/** Our receive window for one channel: credit follows consumption, never arrival. */
export class InboundWindow {
  /** The window we advertise and the bound of the channel's inbound queue. */
  readonly maxWindow: number;
  /** Credit left at the peer: bytes it may still send before our next WINDOW_ADJUST. */
  granted: number;
  readonly #threshold: number;

  constructor(maxWindow: number) {
    this.maxWindow = maxWindow;
    this.granted = maxWindow;
    // About half the window: few adjusts, and the peer never idles while we still have room.
    this.#threshold = Math.max(1, Math.floor(maxWindow / 2));
  }

  /** RFC 4254 §5.2: data arrived; throws if it exceeds the credit we granted. */
  consume(n: number, channel: number): void {
    if (n > this.granted) {
      throw new ProtocolError(`Peer exceeded window by ${n - this.granted} bytes on channel ${channel}`);
    }
    this.granted -= n;
  }

  /**
   * Bytes to grant now, given how many bytes still sit unread in the channel's queues; 0 while
   * the credit is below the threshold. The caller sends WINDOW_ADJUST for the returned amount.
   */
  credit(queued: number): number {
    const credit = this.maxWindow - queued - this.granted;
    if (credit < this.#threshold) return 0;
    this.granted += credit;
    return credit;
  }
}

/** The peer's receive window for one channel, as seen by our writers. */
export class OutboundWindow {
  /** Bytes we may still send. */
  available: number;
  /** The peer's maximum packet size (data bytes per CHANNEL_DATA). */
  readonly maxPacket: number;
  #waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> | undefined;
  #error: unknown;

  constructor(initialWindow: number, maxPacket: number) {
    this.available = initialWindow;
    this.maxPacket = maxPacket;
  }

  /** RFC 4254 §5.2: WINDOW_ADJUST received; a total beyond 2^32-1 is a protocol error. */
  add(bytesToAdd: number, channel: number): void {
    if (this.available + bytesToAdd > maxUint32) {
      throw new ProtocolError(`Window adjust of ${bytesToAdd} overflows window ${this.available} on channel ${channel}`);
    }
    this.available += bytesToAdd;
    if (this.available > 0) this.#wake();
  }

  /** Takes up to `wanted` bytes of credit (bounded by the max packet); 0 when the window is closed. */
  take(wanted: number): number {
    const n = Math.min(wanted, this.available, this.maxPacket);
    this.available -= n;
    return n;
  }

  /** Resolves when credit is available; rejects once the window is failed. */
  ready(): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.available > 0) return Promise.resolve();
    return new Promise((resolve, reject) => (this.#waiters ??= []).push({ resolve, reject }));
  }

  /** Rejects current and future waiters (channel closed or session ended). */
  fail(error: unknown = new ChannelClosedError('Channel closed')): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    const waiters = this.#waiters ?? [];
    this.#waiters = undefined;
    for (const w of waiters) w.reject(error);
  }

  #wake(): void {
    const waiters = this.#waiters ?? [];
    this.#waiters = undefined;
    for (const w of waiters) w.resolve();
  }
}
