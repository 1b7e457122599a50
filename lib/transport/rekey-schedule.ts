/**
 * The timers around key exchanges (RFC 4253 §9): the deadline of a running exchange, so a peer
 * that never finishes cannot hold outbound traffic at the kex gate forever, and the interval
 * after which a completed exchange is repeated. Both timers are unref'd.
 */

/** The kex deadline and the timed re-key of one transport. */
export class RekeySchedule {
  #kexTimer: ReturnType<typeof setTimeout> | undefined;
  #rekeyTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts the deadline of an exchange (none when `timeoutMs` is 0 or less). */
  armKexDeadline(timeoutMs: number, expired: (timeoutMs: number) => void): void {
    clearTimeout(this.#kexTimer);
    if (timeoutMs <= 0) return;
    this.#kexTimer = setTimeout(() => expired(timeoutMs), timeoutMs);
    this.#kexTimer.unref?.();
  }

  /** The exchange completed: clears its deadline and schedules the next one after `intervalMs` (if above 0). */
  exchangeCompleted(intervalMs: number, rekey: () => void): void {
    clearTimeout(this.#kexTimer);
    clearTimeout(this.#rekeyTimer);
    if (intervalMs <= 0) return;
    this.#rekeyTimer = setTimeout(rekey, intervalMs);
    this.#rekeyTimer.unref?.();
  }

  /** Stops both timers. */
  clear(): void {
    clearTimeout(this.#kexTimer);
    clearTimeout(this.#rekeyTimer);
  }
}
