/**
 * Which received SFTP requests may run now (draft-ietf-secsh-filexfer-02 §6.1: requests on one
 * file must give the results they would give one at a time, but non-overlapping reads and writes
 * may run in parallel, and answers may go in any order). Sans-I/O: the server queues requests in
 * arrival order, asks what may start, and reports what finished.
 *
 * Requests start in arrival order. A READ or WRITE starts beside the running ones when fewer than
 * `maxRunning` run and none of them is a barrier or conflicts with it (same file, overlapping
 * bytes, at least one a write; an append write overlaps everything in its file). Every other
 * request is a barrier: it starts when nothing runs, and nothing starts beside it.
 */

/** The bytes a READ or WRITE touches; `file` identifies the file (not the handle) it touches. */
export interface FileAccess {
  write: boolean;
  file: string;
  start: number;
  /** One past the last byte; Infinity for an append write (its offset is ignored). */
  end: number;
}

interface Entry<T> {
  item: T;
  access: FileAccess | undefined;
}

/** The queue and the running set of one session's requests. */
export class RequestScheduler<T> {
  readonly #maxRunning: number;
  readonly #queue: Entry<T>[] = [];
  #queueHead = 0;
  readonly #running = new Map<T, FileAccess | undefined>();
  #barrierRunning = false;

  /** @param maxRunning requests run at once at most (at least 1) */
  constructor(maxRunning: number) {
    this.#maxRunning = Math.max(1, maxRunning);
  }

  /** Requests received and not started. */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Requests started and not finished. */
  get running(): number {
    return this.#running.size;
  }

  /** True when nothing is queued or running. */
  get idle(): boolean {
    return this.queued === 0 && this.#running.size === 0;
  }

  /**
   * Queues a request behind every earlier one.
   * @param access the bytes it touches, or undefined for a barrier (anything but READ and WRITE)
   */
  enqueue(item: T, access: FileAccess | undefined): void {
    this.#queue.push({ item, access });
  }

  /** The next request that may start now (it counts as running from here), or undefined. */
  next(): T | undefined {
    if (this.queued === 0 || this.#barrierRunning || this.#running.size >= this.#maxRunning) return undefined;
    const head = this.#queue[this.#queueHead]!;
    if (head.access === undefined ? this.#running.size > 0 : this.#conflicts(head.access)) return undefined;
    this.#queue[this.#queueHead++] = undefined as unknown as Entry<T>;
    if (this.#queueHead > 64 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    this.#running.set(head.item, head.access);
    if (head.access === undefined) this.#barrierRunning = true;
    return head.item;
  }

  /** Marks a started request finished. */
  finished(item: T): void {
    if (!this.#running.has(item)) return;
    if (this.#running.get(item) === undefined) this.#barrierRunning = false;
    this.#running.delete(item);
  }

  #conflicts(access: FileAccess): boolean {
    for (const other of this.#running.values()) {
      if (other === undefined) return true;
      if (other.file !== access.file || !(other.write || access.write)) continue;
      if (other.start < access.end && access.start < other.end) return true;
    }
    return false;
  }
}
