/**
 * diffie-hellman-group14-sha256 and diffie-hellman-group16-sha512 (RFC 8268 §3, groups from
 * RFC 3526 §3 and §5, generator 2, RFC 4253 §8 exchange). The installed kex backend does the maths
 * (node:crypto, or BigInt in the browser); the private exponent comes from the injected random source. Message framing
 * (SSH_MSG_KEXDH_INIT/REPLY) belongs to the transport's kex driver.
 */
import { DisconnectReason, ProtocolError } from '../errors.js';
import { kexBackend, type KexAgreement, type ModpGroupName } from './backend.js';
import { bytesToBigInt, MODP_PRIMES } from './modp-groups.js';
import { sharedSecretAsMpint } from './secret-encoding.js';
import { diffieHellmanMethod } from './diffie-hellman-method.js';
import type { KexEphemeral, KexMethod } from './types.js';

/**
 * Private exponent size. RFC 3526 §8 asks for at least twice the group's security strength
 * (about 2 x 110 bits for group 14, 2 x 150 for group 16); 512 bits covers both with margin.
 */
const exponentBytes = 64;

interface ModpGroup {
  readonly name: string;
  /** The RFC 3526 group. */
  readonly group: ModpGroupName;
  readonly hash: KexMethod['hash'];
}

/** RFC 4253 §8: x with 1 < x, drawn from the injected random source. */
function dhWithRandomExponent(group: ModpGroup, randomBytes: (n: number) => Uint8Array): KexAgreement {
  let exponent = randomBytes(exponentBytes);
  while (bytesToBigInt(exponent) <= 1n) exponent = randomBytes(exponentBytes);
  return kexBackend().modp(group.group, exponent);
}

/** RFC 4253 §8: the peer's e or f must satisfy 1 < value < p-1; K = value^x mod p as an mpint. */
function computeSharedSecret(group: ModpGroup, dh: KexAgreement, peerValue: Uint8Array): Uint8Array {
  const p = MODP_PRIMES[group.group];
  const value = bytesToBigInt(peerValue);
  if (value <= 1n || value >= p - 1n) {
    const shown = value <= 1n ? value.toString() : value === p - 1n ? 'p-1' : `a ${peerValue.length}-byte value >= p-1`;
    throw new ProtocolError(
      `${group.name}: peer public value must satisfy 1 < value < p-1, got ${shown}`,
      DisconnectReason.keyExchangeFailed,
    );
  }
  return sharedSecretAsMpint(dh.agree(peerValue));
}

/** RFC 8268 §3 */
function dhMethod(group: ModpGroup): KexMethod {
  const ephemeral = (randomBytes: (n: number) => Uint8Array): KexEphemeral => {
    const dh = dhWithRandomExponent(group, randomBytes);
    return {
      publicValue: dh.publicValue,
      computeSecret: (peer) => computeSharedSecret(group, dh, peer),
    };
  };
  return diffieHellmanMethod({ name: group.name, hash: group.hash, publicEncoding: 'mpint', ephemeral });
}

/** RFC 8268 §3: the 2048-bit MODP group 14 with SHA-256. */
export const diffieHellmanGroup14Sha256: KexMethod = dhMethod({
  name: 'diffie-hellman-group14-sha256',
  group: 'modp14',
  hash: 'sha256',
});

/** RFC 8268 §3: the 4096-bit MODP group 16 with SHA-512. */
export const diffieHellmanGroup16Sha512: KexMethod = dhMethod({
  name: 'diffie-hellman-group16-sha512',
  group: 'modp16',
  hash: 'sha512',
});
