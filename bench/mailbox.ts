/**
 * A FIFO that hands server-side channels to whoever opened them from the client side. The
 * scenarios use one link at a time, so the next channel a server accepts belongs to the next open
 * the client makes (concurrent opens only count channels, they never pair them).
 */

/** Items pushed by one side, taken in order by the other. */
export class Mailbox<T> {
  readonly #items: T[] = [];
  readonly #takers: ((item: T) => void)[] = [];

  /** Delivers `item` to the oldest waiting taker, or keeps it. */
  push(item: T): void {
    const taker = this.#takers.shift();
    if (taker) taker(item);
    else this.#items.push(item);
  }

  /** The oldest item, once there is one. */
  take(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  /** Drops items nobody took (channels of a session that already ended). */
  clear(): void {
    this.#items.length = 0;
  }
}

/** One shared buffer of incompressible bytes: every writer sends views of it. */
export function payload(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
  return bytes;
}
