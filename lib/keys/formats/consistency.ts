/**
 * The last check on every imported private key: it must sign something its own public half
 * verifies, under the installed key suite. The material checks in KeyPair cover the public values
 * a file states; this one proves that the runtime accepts the key and that the halves agree.
 */
import { KeyError } from '../../errors.js';
import type { KeyPair } from '../key-pair.js';
import { keySuite } from '../suite.js';

/** Rejects with a KeyError unless `key`'s private half signs what its public half verifies. */
export async function assertConsistentKeyPair(key: KeyPair, what: string): Promise<void> {
  if (!key.hasPrivateKey) return;
  const probe = keySuite().randomBytes(32);
  const algorithm = key.algorithms[key.algorithms.length === 1 ? 0 : 1]!;
  let ok: boolean;
  try {
    ok = await key.verify(probe, await key.sign(algorithm, probe));
  } catch {
    ok = false;
  }
  if (!ok) throw new KeyError(`Invalid ${what}: the ${key.keyType} private key does not match its public key`);
}
