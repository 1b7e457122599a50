import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SshWriter } from '../../lib/codec/wire.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521 } from '../../lib/kex/ecdh-nist.js';
import { seededRandom } from './seeded-random.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const methods = [
  { method: ecdhSha2Nistp256, curve: 'prime256v1', pointLength: 65 },
  { method: ecdhSha2Nistp384, curve: 'secp384r1', pointLength: 97 },
  { method: ecdhSha2Nistp521, curve: 'secp521r1', pointLength: 133 },
];

function rejection(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('Expected a ProtocolError');
}

describe.each(methods)('$method.name', ({ method, curve, pointLength }) => {
  it('agrees with an independent node ECDH peer on K = mpint(x)', () => {
    const client = method.client(seededRandom(`${curve}:independent`));
    expect(client.publicValue).toHaveLength(pointLength);
    expect(client.publicValue[0]).toBe(0x04);
    const peer = createECDH(curve);
    peer.generateKeys();
    const x = peer.computeSecret(client.publicValue);
    const expected = new SshWriter().mpint(x).toBytes();
    expect(toHex(client.computeSecret(peer.getPublicKey()))).toBe(toHex(expected));
  });

  it('rejects a peer point that is not on the curve', () => {
    const client = method.client(seededRandom(`${curve}:off-curve`));
    const point = Uint8Array.from(client.publicValue);
    point[point.length - 1]! ^= 1;
    const error = rejection(() => client.computeSecret(point));
    expect(error.reason).toBe(DisconnectReason.keyExchangeFailed);
    expect(error.message).toContain('is not a point on');
  });

  it('rejects a peer point of the wrong length', () => {
    const client = method.client(seededRandom(`${curve}:length`));
    const error = rejection(() => client.computeSecret(client.publicValue.subarray(0, pointLength - 1)));
    expect(error.message).toContain(`got ${pointLength - 1} bytes`);
  });

  it('rejects a compressed point and the point at infinity', () => {
    const client = method.client(seededRandom(`${curve}:compressed`));
    const peer = createECDH(curve);
    peer.generateKeys();
    expect(() => client.computeSecret(peer.getPublicKey(null, 'compressed'))).toThrowError(ProtocolError);
    expect(() => client.computeSecret(Uint8Array.of(0))).toThrowError(ProtocolError);
    expect(() => client.computeSecret(new Uint8Array(pointLength))).toThrowError(ProtocolError);
  });

  it('answers as a server with a point on the curve and refuses a bad client point', () => {
    const peer = createECDH(curve);
    peer.generateKeys();
    const result = method.server(peer.getPublicKey(), seededRandom(`${curve}:server`));
    const x = peer.computeSecret(result.publicValue);
    expect(toHex(result.sharedSecret)).toBe(toHex(new SshWriter().mpint(x).toBytes()));
    const bad = Uint8Array.from(peer.getPublicKey());
    bad[5]! ^= 0x40;
    expect(() => method.server(bad, seededRandom(`${curve}:server`))).toThrowError(ProtocolError);
  });
});
