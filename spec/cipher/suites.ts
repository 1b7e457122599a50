/**
 * Both cipher suites for the specs, and lookups by wire name: each algorithm spec runs against the
 * node:crypto suite and the portable `@noble` suite alike.
 */
import type { CipherSuite } from '../../lib/cipher/suite.js';
import type { CipherAlgorithm } from '../../lib/cipher/types.js';
import { nodeCipherSuite } from '../../lib/cipher/suites/node.js';
import { webCipherSuite } from '../../lib/cipher/suites/web.js';

/** The two suites, named for `describe.each`. */
export const SUITES: readonly { name: string; suite: CipherSuite }[] = [
  { name: nodeCipherSuite.name, suite: nodeCipherSuite },
  { name: webCipherSuite.name, suite: webCipherSuite },
];

/** The suite's cipher called `name`; throws when it has none, so a typo cannot pass silently. */
export function cipherOf(suite: CipherSuite, name: string): CipherAlgorithm {
  const cipher = suite.ciphers.find((c) => c.name === name);
  if (!cipher) throw new Error(`Suite ${suite.name} has no cipher ${name}`);
  return cipher;
}
