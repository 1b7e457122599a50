/**
 * The seam between the packet stage and the runtime's cryptography: a cipher suite is the set of
 * cipher and MAC algorithms (RFC 4253 §6.3-6.4) one backend implements. The platform file of each
 * runtime installs one, once, before any session starts (node:crypto on Node, Bun and Deno; the
 * synchronous `@noble/*` code in the browser); the registry reads whichever is installed.
 */
import type { CipherAlgorithm, MacAlgorithm } from './types.js';
import { SshError } from '../errors.js';

/** The cipher and MAC algorithms of one backend, each under its exact wire name. */
export interface CipherSuite {
  /** Which backend this is, for messages and benchmarks (e.g. `node:crypto`, `@noble`). */
  readonly name: string;
  /** RFC 4253 §6.3 ciphers. */
  readonly ciphers: readonly CipherAlgorithm[];
  /** RFC 4253 §6.4 MACs. */
  readonly macs: readonly MacAlgorithm[];
  /**
   * Puts this cipher first in `SessionConfig`'s default list when the suite's speeds differ from
   * node:crypto's (the `@noble` suite's ChaCha20 is several times faster than its AES).
   */
  readonly fastestCipher?: string;
}

/** An installed suite with its algorithms indexed by wire name. */
export interface IndexedCipherSuite {
  readonly suite: CipherSuite;
  readonly ciphers: ReadonlyMap<string, CipherAlgorithm>;
  readonly macs: ReadonlyMap<string, MacAlgorithm>;
}

let installed: IndexedCipherSuite | undefined;

/**
 * Makes `suite` the packet protection of every session started from now on (sessions already
 * running keep the keys they built). Called by `lib/platform/*.ts`; calling it again replaces it.
 * @param suite - the backend's algorithms
 */
export function installCipherSuite(suite: CipherSuite): void {
  installed = {
    suite,
    ciphers: new Map(suite.ciphers.map((c) => [c.name, c])),
    macs: new Map(suite.macs.map((m) => [m.name, m])),
  };
}

/**
 * The installed suite.
 * @throws SshError when no platform file installed one (a module imported without its entry point)
 */
export function installedCipherSuite(): IndexedCipherSuite {
  if (installed === undefined) {
    throw new SshError(
      'No cipher suite is installed: import ssh-streams through its entry point (or lib/platform/node.js or web.js first)',
    );
  }
  return installed;
}

/** The installed suite's `fastestCipher`, or undefined (also when none is installed). */
export function installedFastestCipher(): string | undefined {
  return installed?.suite.fastestCipher;
}
