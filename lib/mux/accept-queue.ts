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

/**
 * Removes and returns `list[at]`: the head by `shift()`, which V8 does without moving the rest,
 * so draining a burst of 1000 queued opens stays linear.
 */
function take<T>(list: T[], at: number): T {
  return at === 0 ? list.shift()! : list.splice(at, 1)[0]!;
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
    take(this.#waiters, at).resolve(channel);
  }

  /** The next channel (of `channelType` when given). */
  accept(channelType?: string): Promise<Channel> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const at = channelType === undefined ? 0 : this.#channels.findIndex((c) => c.channelType === channelType);
    if (at >= 0 && at < this.#channels.length) return Promise.resolve(take(this.#channels, at));
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
