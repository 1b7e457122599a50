/**
 * The portable kex backend (`@noble/curves`, `@noble/hashes`, BigInt) against the node:crypto one:
 * the same secrets give the same public values and shared secrets, bad peer values fail the same
 * way, every kex method agrees across the two, and sessions complete on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installKexBackend, type KexBackend, type KexHashName, type NistCurveName } from '../../lib/kex/backend.js';
import { nodeKexBackend } from '../../lib/kex/backends/node.js';
import { webKexBackend } from '../../lib/kex/backends/web.js';
import { x25519KeyPair, x25519SharedSecret } from '../../lib/kex/curve25519.js';
import { deriveKey } from '../../lib/kex/kdf.js';
import { KEX_NAMES, kexMethods } from '../../lib/kex/registry.js';
import { SessionConfig } from '../../lib/config.js';
import { ProtocolError } from '../../lib/errors.js';
import { sessionPair } from '../helpers/pairs.js';
import { seededRandom } from './seeded-random.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Runs `action` with `backend` installed, then puts the web backend back. */
function using<T>(backend: KexBackend, action: () => T): T {
  installKexBackend(backend);
  try {
    return action();
  } finally {
    installKexBackend(webKexBackend);
  }
}

beforeAll(() => installKexBackend(webKexBackend));
afterAll(() => installKexBackend(nodeKexBackend));

describe('web kex backend', () => {
  it.each(['sha256', 'sha384', 'sha512'] as KexHashName[])('hashes and HMACs with %s as node:crypto does', (name) => {
    const random = seededRandom(`hash-${name}`);
    for (const sizes of [[0], [1, 2, 3], [64, 200, 0, 1000], [100_000]]) {
      const parts = sizes.map((n) => random(n));
      const key = random(sizes[0]! % 150);
      expect(toHex(webKexBackend.hash(name, ...parts))).toBe(toHex(nodeKexBackend.hash(name, ...parts)));
      expect(toHex(webKexBackend.hmac(name, key, ...parts))).toBe(toHex(nodeKexBackend.hmac(name, key, ...parts)));
    }
  });

  it('derives the same keys as node:crypto', () => {
    const random = seededRandom('kdf');
    for (const hash of ['sha256', 'sha512'] as KexHashName[]) {
      const secrets = { hash, sharedSecret: random(37), exchangeHash: random(32), sessionId: random(32) };
      const ours = deriveKey('C', 150, secrets);
      expect(toHex(ours)).toBe(toHex(using(nodeKexBackend, () => deriveKey('C', 150, secrets))));
    }
  });

  it('matches the RFC 7748 §6.1 X25519 example and rejects low-order points', () => {
    const alice = x25519KeyPair(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
    const bob = x25519KeyPair(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
    expect(toHex(alice.publicValue)).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(toHex(x25519SharedSecret(alice, bob.publicValue))).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
    expect(() => x25519SharedSecret(alice, new Uint8Array(32))).toThrow(/all zero/);
    expect(() => x25519SharedSecret(alice, hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'))).toThrow(ProtocolError);
  });

  it.each([
    ['p256', 32],
    ['p384', 48],
    ['p521', 66],
  ] as [NistCurveName, number][])('does ECDH on %s as node:crypto does', (curve, size) => {
    const random = seededRandom(`ecdh-${curve}`);
    const a = random(size);
    const b = random(size);
    if (curve === 'p521') {
      a[0]! &= 1;
      b[0]! &= 1;
    }
    const webA = webKexBackend.ecdh(curve, a)!;
    const nodeA = nodeKexBackend.ecdh(curve, a)!;
    const nodeB = nodeKexBackend.ecdh(curve, b)!;
    expect(toHex(webA.publicValue)).toBe(toHex(nodeA.publicValue));
    expect(webA.publicValue.length).toBe(1 + 2 * size);
    expect(toHex(webA.agree(nodeB.publicValue))).toBe(toHex(nodeB.agree(webA.publicValue)));
    // A point off the curve, and scalars outside [1, n-1].
    const offCurve = nodeB.publicValue.slice();
    offCurve[offCurve.length - 1]! ^= 1;
    expect(() => webA.agree(offCurve)).toThrow();
    expect(() => nodeA.agree(offCurve)).toThrow();
    expect(webKexBackend.ecdh(curve, new Uint8Array(size))).toBeUndefined();
    expect(nodeKexBackend.ecdh(curve, new Uint8Array(size))).toBeUndefined();
    const tooBig = new Uint8Array(size).fill(0xff);
    if (curve === 'p521') tooBig[0] = 1;
    expect(webKexBackend.ecdh(curve, tooBig)).toBeUndefined();
    expect(nodeKexBackend.ecdh(curve, tooBig)).toBeUndefined();
  });

  it.each(['modp14', 'modp16'] as const)('exponentiates in %s as node:crypto does', (group) => {
    const random = seededRandom(`modp-${group}`);
    const x = random(64);
    const y = random(64);
    const webX = webKexBackend.modp(group, x);
    const nodeX = nodeKexBackend.modp(group, x);
    const nodeY = nodeKexBackend.modp(group, y);
    const strip = (b: Uint8Array): string => toHex(b).replace(/^(00)+/, '');
    expect(strip(webX.publicValue)).toBe(strip(nodeX.publicValue));
    expect(strip(webX.agree(nodeY.publicValue))).toBe(strip(nodeY.agree(webX.publicValue)));
  });

  it.each(KEX_NAMES)('%s agrees between a web client and a node server, and the other way round', (name) => {
    const method = kexMethods.get(name)!;
    const random = seededRandom(`cross-${name}`);
    for (const [clientSide, serverSide] of [
      [webKexBackend, nodeKexBackend],
      [nodeKexBackend, webKexBackend],
    ]) {
      const client = using(clientSide!, () => method.client(random));
      const server = using(serverSide!, () => method.server(client.publicValue, random));
      const secret = using(clientSide!, () => client.computeSecret(server.publicValue));
      expect(toHex(secret)).toBe(toHex(server.sharedSecret));
    }
  });

  it.each(KEX_NAMES)('completes a session with %s on the web backend', async (name) => {
    const config = SessionConfig.default();
    config.keyExchangeAlgorithms = [name];
    const { client, server } = await sessionPair({ clientConfig: config });
    expect(client.algorithms?.kex).toBe(name);
    await client.close();
    await server.closed;
  });
});
