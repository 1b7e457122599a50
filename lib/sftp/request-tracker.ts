/**
 * Request/response matching for a pipelined SFTP client (draft-ietf-secsh-filexfer-02 §3: every
 * request carries a `uint32 request-id` that its response echoes; responses may come in any order).
 * Ids are handed out in sequence, wrap at 2^32 and skip ids still waiting. Sans-I/O: the client
 * sends, this only remembers who waits for what.
 */

interface Waiter<R> {
  resolve(response: R): void;
  reject(error: Error): void;
}

/** Outstanding requests by id. */
export class RequestTracker<R> {
  readonly #waiting = new Map<number, Waiter<R>>();
  #nextId: number;
  #failure: Error | undefined;

  /** @param firstId the first id handed out (tests start near the wrap) */
  constructor(firstId = 0) {
    this.#nextId = firstId >>> 0;
  }

  /** Requests sent and not answered yet. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Reserves the next free id and the promise of its response.
   * @throws the tracker's failure once `failAll` was called (the connection is gone)
   */
  issue(): { id: number; response: Promise<R> } {
    if (this.#failure !== undefined) throw this.#failure;
    let id = this.#nextId;
    while (this.#waiting.has(id)) id = (id + 1) >>> 0;
    this.#nextId = (id + 1) >>> 0;
    let waiter!: Waiter<R>;
    const response = new Promise<R>((resolve, reject) => (waiter = { resolve, reject }));
    this.#waiting.set(id, waiter);
    return { id, response };
  }

  /**
   * Hands a response to whoever waits for `id`.
   * @returns false when nobody waits for that id (a peer answering twice or inventing ids)
   */
  settle(id: number, response: R): boolean {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return false;
    this.#waiting.delete(id);
    waiter.resolve(response);
    return true;
  }

  /** Rejects every waiting request with `error`, and every later `issue`. */
  failAll(error: Error): void {
    this.#failure ??= error;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const waiter of waiting) waiter.reject(error);
  }
}
