/**
 * Admission of connections that have not authenticated yet, as OpenSSH's MaxStartups and
 * PerSourceMaxStartups do it: past `start` unauthenticated connections a new one is dropped with
 * a probability that rises linearly from `rate` percent to 100 % at `full`; past the per-source
 * cap every new one from that address is dropped. Sans-I/O: the caller counts and supplies the
 * randomness; sockets and sessions are tcp-server.ts's.
 */

/** OpenSSH MaxStartups `start:rate:full`. */
export interface MaxStartups {
  /** Unauthenticated connections accepted unconditionally. */
  start: number;
  /** Percent of new connections dropped once `start` is reached. */
  rate: number;
  /** Unauthenticated connections at which every new one is dropped. */
  full: number;
}

/** OpenSSH's default, 10:30:100. */
export const defaultMaxStartups: MaxStartups = { start: 10, rate: 30, full: 100 };

/** Counts unauthenticated connections (in total and per source address) and decides admissions. */
export class StartupLimiter {
  readonly #bySource = new Map<string, number>();
  #total = 0;

  /** Unauthenticated connections admitted and not yet released. */
  get unauthenticated(): number {
    return this.#total;
  }

  /** Unauthenticated connections from `source`. */
  fromSource(source: string): number {
    return this.#bySource.get(source) ?? 0;
  }

  /**
   * Whether a new connection from `source` is admitted; when it is, it counts until `release`.
   * `random` returns a number in [0, 1) (injected so the drop is testable).
   */
  admit(source: string, limits: { maxStartups: MaxStartups; perSource: number; random: () => number }): boolean {
    if (this.fromSource(source) >= limits.perSource) return false;
    if (shouldDrop(this.#total, limits.maxStartups, limits.random)) return false;
    this.#total++;
    this.#bySource.set(source, this.fromSource(source) + 1);
    return true;
  }

  /** The connection from `source` authenticated or ended. */
  release(source: string): void {
    this.#total--;
    const left = this.fromSource(source) - 1;
    if (left > 0) this.#bySource.set(source, left);
    else this.#bySource.delete(source);
  }
}

/** OpenSSH sshd.c drop_connection: the probability rises from `rate` % at `start` to 100 % at `full`. */
export function shouldDrop(unauthenticated: number, limits: MaxStartups, random: () => number): boolean {
  const { start, rate, full } = limits;
  if (unauthenticated >= full) return true;
  if (unauthenticated < start) return false;
  const percent = rate + ((100 - rate) * (unauthenticated - start)) / (full - start);
  return random() * 100 < percent;
}
