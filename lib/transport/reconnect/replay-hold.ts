/**
 * How long a server that resumed a session keeps its own messages back (notes §2.3.5, §10). The
 * Dev Tunnels client lets its application send again as soon as the server's first message (a
 * WINDOW_ADJUST, say) arrives, even while it is still replaying: its new data then overtakes
 * replayed data. Holding our side until the client's replay burst has arrived and gone quiet
 * keeps its application blocked meanwhile. A heuristic with a hard upper bound, no protocol.
 */

/** Timing of the hold, in milliseconds. */
export interface ReplayHoldOptions {
  /** No packet for this long after the first one ends the hold. */
  quietMs: number;
  /** The hold never lasts longer than this. */
  maxMs: number;
}

/** Defaults: the replay burst of a client on the same machine takes well under these. */
export const REPLAY_HOLD: ReplayHoldOptions = { quietMs: 15, maxMs: 300 };

/**
 * Calls `release` once packets started arriving (counted by `packetsReceived`) and then stopped
 * for `quietMs`, or after `maxMs` at the latest.
 */
export function releaseAfterPeerReplay(packetsReceived: () => number, release: () => void, options = REPLAY_HOLD): void {
  const start = packetsReceived();
  let seen = start;
  let elapsed = 0;
  const step = Math.max(1, Math.floor(options.quietMs / 3));
  let quietFor = 0;
  const timer = setInterval(() => {
    elapsed += step;
    const now = packetsReceived();
    quietFor = now === seen ? quietFor + step : 0;
    seen = now;
    if ((now > start && quietFor >= options.quietMs) || elapsed >= options.maxMs) {
      clearInterval(timer);
      release();
    }
  }, step);
  timer.unref?.();
}
