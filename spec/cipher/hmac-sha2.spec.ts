import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NodePacketMac as PacketMac } from '../../lib/cipher/hmac-sha2.js';
import { hmacSha2_256, hmacSha2_256Etm, hmacSha2_512, hmacSha2_512Etm } from '../../lib/cipher/mac-algorithms.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { hex, loadVectors } from './vectors.js';

interface HmacCase { name: string; key: string; data: string; sha256: string; sha512: string }
const vectors = loadVectors<HmacCase>('hmac-sha2');
const algorithms = [
  { algorithm: hmacSha2_256, field: 'sha256' as const },
  { algorithm: hmacSha2_512, field: 'sha512' as const },
];

describe('hmac-sha2', () => {
  it.each(vectors.cases.flatMap((c) => algorithms.map((a) => ({ ...a, c, name: `${c.name} ${a.algorithm.name}` }))))(
    'matches $name through node:crypto',
    ({ algorithm, field, c }) => {
      expect(createHmac(algorithm.digest, hex(c.key)).update(hex(c.data)).digest('hex')).toBe(c[field]);
    },
  );

  it.each(vectors.cases.flatMap((c) => algorithms.map((a) => ({ ...a, c, name: `${c.name} ${a.algorithm.name}` }))))(
    'computes $name when the first four data bytes are the sequence number',
    ({ algorithm, field, c }) => {
      // RFC 4253 §6.4: mac = MAC(key, uint32 sequence_number || packet), so the vector's data splits there.
      const data = hex(c.data);
      const mac = new PacketMac(algorithm, hex(c.key));
      expect(mac.compute(data.readUInt32BE(0), data.subarray(4)).toString('hex')).toBe(c[field]);
      expect(mac.compute(data.readUInt32BE(0), data.subarray(4, 6), data.subarray(6)).toString('hex')).toBe(c[field]);
    },
  );

  it('rejects a wrong MAC with MAC_ERROR naming the sequence number', () => {
    const mac = new PacketMac(hmacSha2_256, Buffer.alloc(32, 1));
    const tag = mac.compute(3, Buffer.from('packet'));
    expect(() => mac.verify(3, tag, { first: Buffer.from('packet') })).not.toThrow();
    tag[0]! ^= 1;
    expect(() => mac.verify(3, tag, { first: Buffer.from('packet') })).toThrow(
      expect.objectContaining({ reason: DisconnectReason.macError, message: 'Bad MAC on packet 3' }),
    );
    expect(() => mac.verify(3, tag.subarray(1), { first: Buffer.from('packet') })).toThrow(ProtocolError);
  });

  it.each([hmacSha2_256, hmacSha2_512, hmacSha2_256Etm, hmacSha2_512Etm])('declares the key and MAC sizes of $name', (algorithm) => {
    const bytes = algorithm.digest === 'sha256' ? 32 : 64;
    expect(algorithm.keyLength).toBe(bytes);
    expect(algorithm.macLength).toBe(bytes);
    expect(algorithm.encryptThenMac).toBe(algorithm.name.endsWith('-etm@openssh.com'));
  });
});
