/**
 * Properties of the portable `@noble` suite, for any payload, padding and sequence number: what is
 * sealed opens to the same payload, and flipping any single bit of the wire packet is never
 * accepted (the length turns out wrong or invalid, or the tag fails with MAC_ERROR).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CIPHER_NAMES, MAC_NAMES } from '../../lib/cipher/registry.js';
import { webCipherSuite } from '../../lib/cipher/suites/web.js';
import type { DirectionKeys } from '../../lib/cipher/types.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { buildPacket, copyKeys, readPacket } from './packets.js';
import { cipherOf } from './suites.js';

const protectedCombinations = CIPHER_NAMES.flatMap((cipher) => MAC_NAMES.map((mac) => ({ cipher, mac }))).filter(
  ({ cipher, mac }) => cipherOf(webCipherSuite, cipher).aead || (cipher !== 'none' && mac !== 'none'),
);

const keysArbitrary = fc.record({
  iv: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  encryptionKey: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  integrityKey: fc.uint8Array({ minLength: 64, maxLength: 64 }),
});

function pair(cipher: string, mac: string, keys: DirectionKeys) {
  const algorithm = cipherOf(webCipherSuite, cipher);
  const macAlgorithm = algorithm.aead ? undefined : webCipherSuite.macs.find((m) => m.name === mac);
  return { sealing: algorithm.sealing(copyKeys(keys), macAlgorithm), opening: algorithm.opening(copyKeys(keys), macAlgorithm) };
}

describe.each(protectedCombinations)('@noble $cipher with $mac', ({ cipher, mac }) => {
  it('opens what it sealed', () => {
    fc.assert(
      fc.property(keysArbitrary, fc.uint8Array({ maxLength: 3000 }), fc.nat(3), fc.nat({ max: 2 ** 32 - 1 }), (keys, payload, extra, sequence) => {
        const { sealing, opening } = pair(cipher, mac, keys);
        const wire = sealing.seal(sequence, buildPacket(payload, sealing, extra)).slice();
        const read = readPacket(opening, sequence, wire);
        expect(Buffer.from(read.payload).equals(payload)).toBe(true);
        expect(read.used).toBe(wire.length);
      }),
      { numRuns: 40 },
    );
  });

  it('accepts no single-bit flip', () => {
    fc.assert(
      fc.property(keysArbitrary, fc.uint8Array({ maxLength: 600 }), fc.nat({ max: 2 ** 32 - 1 }), fc.nat(), (keys, payload, sequence, flip) => {
        const { sealing, opening } = pair(cipher, mac, keys);
        const wire = sealing.seal(sequence, buildPacket(payload, sealing)).slice();
        const bit = flip % (wire.length * 8);
        wire[bit >>> 3]! ^= 1 << (bit & 7);
        let packetLength: number;
        try {
          packetLength = opening.decryptLength(sequence, wire.subarray(0, opening.lengthPrefixBytes));
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          return;
        }
        // A different length frames other bytes as this packet: their tag cannot verify either.
        if (4 + packetLength + opening.tagLength !== wire.length) return;
        expect(() => opening.open(sequence, wire)).toThrow(expect.objectContaining({ reason: DisconnectReason.macError }));
      }),
      { numRuns: 60 },
    );
  });
});
