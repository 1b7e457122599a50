/**
 * Keepalive (OpenSSH ServerAliveInterval/ClientAliveInterval semantics): while the link is idle
 * for an interval, send keepalive@openssh.com with want_reply; any reply (SUCCESS or FAILURE)
 * proves the peer alive; after `countMax` unanswered, report the peer dead. Timers only; the
 * request itself goes through the global-request FIFO (global-requests.ts).
 */

/** The global request name OpenSSH uses for keepalives. */
export const keepAliveRequestType = 'keepalive@openssh.com';

/** Options of a KeepAlive timer. */
export interface KeepAliveOptions {
  /** Seconds between checks; 0 disables. */
  intervalSeconds: number;
  /** Unanswered keepalives after which the peer is declared dead. */
  countMax: number;
  /** Sends one keepalive; resolves when any reply arrives, rejects when the session ends. */
  send(): Promise<unknown>;
  /** Called once when the peer is declared dead. */
  onFailed(): void;
}

/** The keepalive timer of one connection. */
export class KeepAlive {
  readonly #options: KeepAliveOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #active = false;
  #unanswered = 0;
  #failed = false;

  constructor(options: KeepAliveOptions) {
    this.#options = options;
    if (options.intervalSeconds > 0) {
      this.#timer = setInterval(() => this.#tick(), options.intervalSeconds * 1000);
      // The session's socket keeps the process alive, not this timer.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Something arrived from the peer: it is alive, skip the next probe. */
  activity(): void {
    this.#active = true;
    this.#unanswered = 0;
  }

  /** Stops the timer. */
  dispose(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#active) {
      this.#active = false;
      return;
    }
    if (this.#unanswered >= this.#options.countMax) {
      this.dispose();
      if (!this.#failed) {
        this.#failed = true;
        this.#options.onFailed();
      }
      return;
    }
    this.#unanswered++;
    this.#options.send().then(
      () => (this.#unanswered = 0),
      () => {},
    );
  }
}
