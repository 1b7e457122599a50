/**
 * diffie-hellman-group14-sha256 and diffie-hellman-group16-sha512 (RFC 8268 §3, groups from
 * RFC 3526 §3 and §5, generator 2, RFC 4253 §8 exchange). Node's DiffieHellman does the maths; the
 * private exponent comes from the injected random source. Message framing
 * (SSH_MSG_KEXDH_INIT/REPLY) belongs to the transport's kex driver.
 */
import { createDiffieHellman, getDiffieHellman, type DiffieHellman } from 'node:crypto';
import { DisconnectReason, ProtocolError } from '../errors.js';
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
  /** node:crypto name of the RFC 3526 group. */
  readonly nodeGroup: 'modp14' | 'modp16';
  readonly hash: KexMethod['hash'];
}

/** The group prime, fetched once per group from node's built-in RFC 3526 table. */
const primes = new Map<string, Buffer>();
function primeOf(group: ModpGroup): Buffer {
  let prime = primes.get(group.nodeGroup);
  if (!prime) {
    prime = getDiffieHellman(group.nodeGroup).getPrime();
    primes.set(group.nodeGroup, prime);
  }
  return prime;
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
}

/** RFC 4253 §8: x with 1 < x, drawn from the injected random source. */
function dhWithRandomExponent(group: ModpGroup, randomBytes: (n: number) => Uint8Array): DiffieHellman {
  const dh = createDiffieHellman(primeOf(group), 2);
  let exponent = randomBytes(exponentBytes);
  while (toBigInt(exponent) <= 1n) exponent = randomBytes(exponentBytes);
  dh.setPrivateKey(Buffer.from(exponent));
  // With a private key set, generateKeys only computes g^x mod p.
  dh.generateKeys();
  return dh;
}

/** RFC 4253 §8: the peer's e or f must satisfy 1 < value < p-1; K = value^x mod p as an mpint. */
function computeSharedSecret(group: ModpGroup, dh: DiffieHellman, peerValue: Uint8Array): Uint8Array {
  const p = toBigInt(primeOf(group));
  const value = toBigInt(peerValue);
  if (value <= 1n || value >= p - 1n) {
    const shown = value <= 1n ? value.toString() : value === p - 1n ? 'p-1' : `a ${peerValue.length}-byte value >= p-1`;
    throw new ProtocolError(
      `${group.name}: peer public value must satisfy 1 < value < p-1, got ${shown}`,
      DisconnectReason.keyExchangeFailed,
    );
  }
  return sharedSecretAsMpint(dh.computeSecret(Buffer.from(peerValue)));
}

/** RFC 8268 §3 */
function dhMethod(group: ModpGroup): KexMethod {
  const ephemeral = (randomBytes: (n: number) => Uint8Array): KexEphemeral => {
    const dh = dhWithRandomExponent(group, randomBytes);
    return {
      publicValue: new Uint8Array(dh.getPublicKey()),
      computeSecret: (peer) => computeSharedSecret(group, dh, peer),
    };
  };
  return diffieHellmanMethod({ name: group.name, hash: group.hash, publicEncoding: 'mpint', ephemeral });
}

/** RFC 8268 §3: the 2048-bit MODP group 14 with SHA-256. */
export const diffieHellmanGroup14Sha256: KexMethod = dhMethod({
  name: 'diffie-hellman-group14-sha256',
  nodeGroup: 'modp14',
  hash: 'sha256',
});

/** RFC 8268 §3: the 4096-bit MODP group 16 with SHA-512. */
export const diffieHellmanGroup16Sha512: KexMethod = dhMethod({
  name: 'diffie-hellman-group16-sha512',
  nodeGroup: 'modp16',
  hash: 'sha512',
});
