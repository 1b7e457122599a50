/**
 * The reconnect send cache (notes §2.3.3): messages sent on one connection, kept with their
 * sequence number and send time until a trailer acknowledges them, so that a new connection can
 * replay what the peer never received. Bounded by message count; evicting means a later
 * reconnect that needs the evicted message fails. Sans-I/O: no clock, no wire.
 */

import { isEnableReconnect } from './messages.js';

const DISCONNECT = 1;
const GLOBAL_REQUEST = 80;
const KEX_FIRST = 20;
const KEX_LAST = 49;

interface Entry {
  readonly sequence: number;
  readonly payload: Uint8Array;
  readonly sentAt: number;
}

/** Sent messages not yet acknowledged by the peer, oldest first. */
export class SendCache {
  readonly #maxSize: number;
  #entries: Entry[] = [];
  /** Index of the oldest live entry in `#entries` (dequeue without shifting). */
  #head = 0;
  /** Highest sequence evicted unacknowledged; -1 while nothing was. */
  #evictedUpTo = -1;
  /** Sequence of the last message added; -1 before any. */
  #lastSequence = -1;

  /** @param maxSize - most messages kept; older ones are evicted (0 or less: unbounded) */
  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  /** Messages held. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** True once a message was evicted before the peer acknowledged it. */
  get hasDropped(): boolean {
    return this.#evictedUpTo >= 0;
  }

  /** Notes §2.3.3: keeps `payload` (without trailer) sent as packet `sequence` at `sentAt` ms. */
  add(sequence: number, payload: Uint8Array, sentAt: number): void {
    this.#entries.push({ sequence, payload, sentAt });
    this.#lastSequence = sequence;
    if (this.#maxSize > 0 && this.size > this.#maxSize) {
      this.#evictedUpTo = this.#entries[this.#head]!.sequence;
      this.#dequeue();
    }
  }

  /**
   * Notes §2.3.3: drops every message up to `lastReceivedSequence`. Returns the send time of the
   * message with exactly that sequence when it was still held (a latency sample), else undefined.
   */
  acknowledge(lastReceivedSequence: number): number | undefined {
    let sentAt: number | undefined;
    while (this.#head < this.#entries.length) {
      const oldest = this.#entries[this.#head]!;
      if (oldest.sequence > lastReceivedSequence) break;
      if (oldest.sequence === lastReceivedSequence) sentAt = oldest.sentAt;
      this.#dequeue();
    }
    return sentAt;
  }

  /**
   * Notes §2.3.3: the held messages from sequence `start` on, for replay, without key exchange
   * messages (a new connection runs its own), DISCONNECT, and enable-session-reconnect requests
   * (per connection: replayed, one would switch the trailer on mid-replay). Empty when the peer
   * is up to date; null when a message it needs is no longer held (evicted, or older than
   * anything held).
   */
  sentMessagesFrom(start: number): Uint8Array[] | null {
    if (start > this.#lastSequence) return [];
    if (start <= this.#evictedUpTo) return null;
    if (this.size > 0 && start < this.#entries[this.#head]!.sequence) return null;
    const out: Uint8Array[] = [];
    for (let i = this.#head; i < this.#entries.length; i++) {
      const { sequence, payload } = this.#entries[i]!;
      const type = payload[0]!;
      if (sequence < start || type === DISCONNECT || (type >= KEX_FIRST && type <= KEX_LAST)) continue;
      if (type === GLOBAL_REQUEST && isEnableReconnect(payload)) continue;
      out.push(payload);
    }
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries = [];
    this.#head = 0;
  }

  #dequeue(): void {
    this.#head++;
    // Compact once the dead prefix outweighs the live entries, keeping dequeue amortized O(1).
    if (this.#head > 64 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
