import { getDiffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SshWriter } from '../../lib/codec/wire.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { diffieHellmanGroup14Sha256, diffieHellmanGroup16Sha512 } from '../../lib/kex/dh-group.js';
import { seededRandom } from './seeded-random.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const toBigInt = (b: Uint8Array): bigint => BigInt('0x' + (toHex(b) || '0'));
const fromBigInt = (v: bigint): Uint8Array => {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
};

/** Square-and-multiply over BigInt: an implementation independent of node's DiffieHellman. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

describe.each([
  { method: diffieHellmanGroup14Sha256, group: 'modp14', bits: 2048 },
  { method: diffieHellmanGroup16Sha512, group: 'modp16', bits: 4096 },
])('$method.name', ({ method, group, bits }) => {
  const p = toBigInt(getDiffieHellman(group).getPrime());

  it(`uses the ${bits}-bit RFC 3526 prime`, () => {
    expect(p.toString(2)).toHaveLength(bits);
  });

  it('computes e = 2^x mod p with x the first 64 bytes of the injected random source', () => {
    const client = method.client(seededRandom(`${group}:exact`));
    const x = toBigInt(seededRandom(`${group}:exact`)(64));
    expect(toBigInt(client.publicValue)).toBe(modPow(2n, x, p));
  });

  it('derives K = f^x mod p as an mpint, checked with BigInt arithmetic', () => {
    const client = method.client(seededRandom(`${group}:k`));
    const x = toBigInt(seededRandom(`${group}:k`)(64));
    const y = 0x1234567890abcdefn;
    const f = modPow(2n, y, p);
    const expected = new SshWriter().mpint(fromBigInt(modPow(f, x, p))).toBytes();
    expect(toHex(client.computeSecret(fromBigInt(f)))).toBe(toHex(expected));
  });

  it.each([
    { name: '0', value: () => new Uint8Array(0) },
    { name: '1', value: () => Uint8Array.of(1) },
    { name: 'p-1', value: () => fromBigInt(p - 1n) },
    { name: 'p', value: () => fromBigInt(p) },
    { name: 'p+1', value: () => fromBigInt(p + 1n) },
  ])('rejects a peer value of $name', ({ value }) => {
    const client = method.client(seededRandom(`${group}:reject`));
    let error: unknown;
    try {
      client.computeSecret(value());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).reason).toBe(DisconnectReason.keyExchangeFailed);
    expect((error as ProtocolError).message).toContain('1 < value < p-1');
  });

  it('refuses a client e of 1 when answering as a server', () => {
    expect(() => method.server(Uint8Array.of(1), seededRandom(`${group}:server`))).toThrowError(/got 1$/);
  });

  it('accepts the smallest and largest valid values, 2 and p-2', () => {
    const client = method.client(seededRandom(`${group}:edges`));
    expect(() => client.computeSecret(Uint8Array.of(2))).not.toThrow();
    expect(() => client.computeSecret(fromBigInt(p - 2n))).not.toThrow();
  });
});
