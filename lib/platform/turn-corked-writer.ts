/**
 * Writes to a node:net socket corked until the end of the turn: everything written before the
 * event loop's next tick leaves in one writev instead of one system call per write. On loopback a
 * send costs the sender the receiver's side of TCP too, so halving the calls for 32 KiB channel
 * packets measured +30 % forwarding from sshd (bench/sshd.ts, forward rows).
 */
import type { Socket } from 'node:net';

/** Bytes held unwritten past which a turn's writes go at once and the writer should wait for 'drain'. */
export const CORK_LIMIT = 256 * 1024;

/** A socket's writes, gathered per turn. */
export class TurnCorkedWriter {
  readonly #socket: Socket;
  #corked = false;
  readonly #uncork = (): void => {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  };

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /**
   * Writes `chunk` (the socket holds it until written: the caller must not reuse it).
   * @returns false once CORK_LIMIT bytes or more wait for the kernel: wait for 'drain' (it comes,
   * since the socket's own 16 KiB mark was passed on the way) before writing more
   */
  write(chunk: Uint8Array): boolean {
    const socket = this.#socket;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(this.#uncork);
    }
    socket.write(chunk);
    if (socket.writableLength < CORK_LIMIT) return true;
    this.#uncork();
    return socket.writableLength < CORK_LIMIT;
  }
}
