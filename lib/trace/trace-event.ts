/**
 * What a session's diagnostics look like from outside (the shape `session.onTrace` receives and
 * `config.trace` selects): levels, categories and the event itself. Types and the level order
 * only; building and filtering events is tracer.ts.
 */

/**
 * How much a session reports, like `ssh -v`, `-vv`, `-vvv`: each level includes the ones before.
 * - `info`: versions, negotiated algorithms, key exchanges and re-keys, each authentication
 *   step and its result, host key checks, disconnects and reconnects.
 * - `debug`: adds channels (opens with type, ids, window and packet sizes; open failures with
 *   their reason code; EOF; close), channel and global requests (type and result), the peer's
 *   KEXINIT lists, EXT_INFO names, DEBUG messages.
 * - `verbose`: adds every message in and out: name, number and payload length.
 */
export type TraceLevel = 'info' | 'debug' | 'verbose';

/** The levels in order, least detailed first. */
export const traceLevels: readonly TraceLevel[] = ['info', 'debug', 'verbose'];

/** `config.trace`: a level, or `off` (the default: no event is built at all). */
export type TraceSetting = TraceLevel | 'off';

/** What an event is about. */
export type TraceCategory = 'transport' | 'kex' | 'auth' | 'channel' | 'request' | 'reconnect' | 'message';

/** A structured field of an event: never bytes, only names, numbers, flags and fingerprints. */
export type TraceValue = string | number | boolean | readonly string[] | undefined;

/**
 * One diagnostic event. Besides `level`, `category` and a readable `message`, each event carries
 * the values it speaks of as fields (e.g. `kex`, `channelType`, `localChannel`, `reasonCode`).
 * No event ever holds a password, a keyboard-interactive answer, private key material, a
 * signature, session keys, the shared secret, the exchange hash or channel data.
 */
export interface TraceEvent {
  readonly level: TraceLevel;
  readonly category: TraceCategory;
  readonly message: string;
  readonly [field: string]: TraceValue;
}

/** Handler of `session.onTrace`. */
export type TraceHandler = (event: TraceEvent) => void;

/** Numeric order of a setting: 0 for off, 1 info, 2 debug, 3 verbose. */
export function traceLevelNumber(setting: TraceSetting | undefined): number {
  return setting === undefined || setting === 'off' ? 0 : traceLevels.indexOf(setting) + 1;
}
