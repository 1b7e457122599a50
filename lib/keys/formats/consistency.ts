/**
 * The last check on every imported private key: it must sign something its own public half
 * verifies. Parsers (node:crypto's included) take stored public values such as an EC point or an
 * RSA modulus on trust, so a corrupt or forged file could otherwise yield a mismatched pair.
 */
import { randomBytes, sign, verify } from 'node:crypto';
import { KeyError } from '../../errors.js';
import type { KeyPair } from '../key-pair.js';

/** Throws a KeyError unless `key`'s private half signs what its public half verifies. */
export function assertConsistentKeyPair(key: KeyPair, what: string): void {
  if (!key.privateKey) return;
  const probe = randomBytes(32);
  const hash = key.keyType === 'ssh-ed25519' ? null : 'sha256';
  let ok: boolean;
  try {
    ok = verify(hash, probe, key.publicKey, sign(hash, probe, key.privateKey));
  } catch {
    ok = false;
  }
  if (!ok) throw new KeyError(`Invalid ${what}: the ${key.keyType} private key does not match its public key`);
}
