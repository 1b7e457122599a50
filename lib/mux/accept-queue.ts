/**
 * Incoming channels waiting for the application (RFC 4254 §5.1 opens the peer made): handed to
 * `acceptChannel` callers in arrival order, optionally filtered by channel type. Bounded by the
 * connection's maxChannels, since every queued channel is in its channel table.
 */
import type { Channel } from './channel.js';

interface Waiter {
  type: string | undefined;
  resolve: (c: Channel) => void;
  reject: (e: unknown) => void;
}

/** Confirmed incoming channels and the callers waiting for them. */
export class AcceptQueue {
  #channels: Channel[] = [];
  #waiters: Waiter[] = [];
  #error: unknown;

  /** Hands `channel` to the first matching waiter, or keeps it for a later `accept`. */
  deliver(channel: Channel): void {
    const at = this.#waiters.findIndex((w) => w.type === undefined || w.type === channel.channelType);
    if (at < 0) return void this.#channels.push(channel);
    this.#waiters.splice(at, 1)[0]!.resolve(channel);
  }

  /** The next channel (of `channelType` when given). */
  accept(channelType?: string): Promise<Channel> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const at = this.#channels.findIndex((c) => channelType === undefined || c.channelType === channelType);
    if (at >= 0) return Promise.resolve(this.#channels.splice(at, 1)[0]!);
    return new Promise((resolve, reject) => this.#waiters.push({ type: channelType, resolve, reject }));
  }

  /** Whether someone waits specifically for `channelType` (which makes the type acceptable). */
  isAwaited(channelType: string): boolean {
    return this.#waiters.some((w) => w.type === channelType);
  }

  /** Rejects every waiter and later call with `error`; queued channels are dropped. */
  fail(error: unknown): void {
    if (this.#error === undefined) this.#error = error;
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#channels = [];
    for (const w of waiters) w.reject(error);
  }
}
