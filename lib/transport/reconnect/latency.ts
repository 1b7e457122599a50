/**
 * Round-trip latency statistics of the Microsoft session-latency extension (notes §2.4): each
 * acknowledged packet whose send time is still known yields a sample, (receive time - send time)
 * minus the time the peer held the acknowledgement. Milliseconds; no clock of its own.
 */

/** Latency figures in milliseconds; 0 until a sample arrived. */
export interface LatencyFigures {
  readonly latencyCurrentMs: number;
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  readonly latencyAverageMs: number;
}

/** Running latency statistics. */
export class LatencyStats implements LatencyFigures {
  latencyCurrentMs = 0;
  latencyMinMs = 0;
  latencyMaxMs = 0;
  #sum = 0;
  #count = 0;

  get latencyAverageMs(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** Notes §2.4: one round trip; negative or zero values are no sample and are ignored. */
  record(roundTripMs: number): void {
    if (!(roundTripMs > 0)) return;
    this.latencyCurrentMs = roundTripMs;
    this.latencyMinMs = this.#count === 0 ? roundTripMs : Math.min(this.latencyMinMs, roundTripMs);
    this.latencyMaxMs = Math.max(this.latencyMaxMs, roundTripMs);
    this.#sum += roundTripMs;
    this.#count++;
  }

  /** Notes §2.4: latency never spans a disconnection. */
  disconnected(): void {
    this.latencyCurrentMs = 0;
  }

  /** The figures as a plain object. */
  snapshot(): LatencyFigures {
    return {
      latencyCurrentMs: this.latencyCurrentMs,
      latencyMinMs: this.latencyMinMs,
      latencyMaxMs: this.latencyMaxMs,
      latencyAverageMs: this.latencyAverageMs,
    };
  }
}
