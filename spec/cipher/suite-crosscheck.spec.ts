/**
 * The portable `@noble` suite against the node:crypto suite, algorithm by algorithm: packets
 * sealed by one open under the other in both directions, at many sizes and at sequence numbers
 * that wrap past 2^32; tampered packets and garbled lengths get the same errors from both.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CIPHER_NAMES, MAC_NAMES } from '../../lib/cipher/registry.js';
import { nodeCipherSuite } from '../../lib/cipher/suites/node.js';
import { webCipherSuite } from '../../lib/cipher/suites/web.js';
import type { CipherSuite } from '../../lib/cipher/suite.js';
import type { DirectionKeys, OpeningKey, SealingKey } from '../../lib/cipher/types.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { buildPacket, copyKeys, randomKeys, readPacket } from './packets.js';
import { cipherOf } from './suites.js';

const combinations = CIPHER_NAMES.flatMap((cipher) => MAC_NAMES.map((mac) => ({ cipher, mac })));
const protectedCombinations = combinations.filter(
  ({ cipher, mac }) => cipherOf(nodeCipherSuite, cipher).aead || mac !== 'none',
);
const sizes = [0, 1, 3, 4, 5, 11, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 4095, 4096, 16384, 32768, 35000, 65535, 70000];
/** Sequence numbers run from just below 2^32 through the wrap to 0 (RFC 4253 §6.4). */
const FIRST_SEQUENCE = 2 ** 32 - 7;

function strategies(suite: CipherSuite, cipher: string, mac: string, keys: DirectionKeys): { sealing: SealingKey; opening: OpeningKey } {
  const algorithm = cipherOf(suite, cipher);
  const macAlgorithm = algorithm.aead ? undefined : suite.macs.find((m) => m.name === mac);
  return { sealing: algorithm.sealing(copyKeys(keys), macAlgorithm), opening: algorithm.opening(copyKeys(keys), macAlgorithm) };
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

const directions = [
  { name: 'node seals, @noble opens', from: nodeCipherSuite, to: webCipherSuite },
  { name: '@noble seals, node opens', from: webCipherSuite, to: nodeCipherSuite },
];

describe.each(directions)('$name', ({ from, to }) => {
  it.each(combinations)('carries packets of 0 to 70000 bytes across the sequence wrap with $cipher and $mac', ({ cipher, mac }) => {
    const keys = randomKeys();
    const { sealing } = strategies(from, cipher, mac, keys);
    const { opening } = strategies(to, cipher, mac, keys);
    const { sealing: sameSealing } = strategies(to, cipher, mac, keys);
    sizes.forEach((size, i) => {
      const sequence = (FIRST_SEQUENCE + i) >>> 0;
      const payload = randomBytes(size);
      const packet = buildPacket(payload, sealing);
      const twin = packet.slice();
      const wire = sealing.seal(sequence, packet).slice();
      // Same keys, same packet (padding included): both backends must produce the same bytes.
      expect(Buffer.from(sameSealing.seal(sequence, twin)).equals(wire), `${cipher} ${mac} size ${size}`).toBe(true);
      const read = readPacket(opening, sequence, wire);
      expect(Buffer.from(read.payload).equals(payload)).toBe(true);
      expect(read.used).toBe(wire.length);
    });
  });

  it.each(protectedCombinations)('rejects tampered packets with MAC_ERROR under $cipher and $mac', ({ cipher, mac }) => {
    const keys = randomKeys();
    const { sealing } = strategies(from, cipher, mac, keys);
    const wire = sealing.seal(5, buildPacket(randomBytes(300), sealing)).slice();
    // Past the first block (so the length still decrypts) and in the tag.
    for (const at of [20, 100, wire.length - 1]) {
      const tampered = wire.slice();
      tampered[at]! ^= 0x10;
      const errors = [from, to].map((suite) => {
        const { opening } = strategies(suite, cipher, mac, keys);
        return caught(() => readPacket(opening, 5, tampered));
      });
      for (const error of errors) {
        expect(error, `${cipher} ${mac} byte ${at}`).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).reason).toBe(DisconnectReason.macError);
      }
      expect((errors[0] as Error).message).toBe((errors[1] as Error).message);
    }
  });
});

describe('garbled packet lengths', () => {
  it.each(combinations)('give the same answer from both suites under $cipher and $mac', ({ cipher, mac }) => {
    for (let i = 0; i < 50; i++) {
      const keys = randomKeys();
      const prefix = randomBytes(16);
      const [node, web] = [nodeCipherSuite, webCipherSuite].map((suite) => {
        const { opening } = strategies(suite, cipher, mac, keys);
        try {
          return { length: opening.decryptLength(i, prefix.subarray(0, opening.lengthPrefixBytes)) };
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          return { reason: (error as ProtocolError).reason, message: (error as Error).message };
        }
      });
      expect(web).toEqual(node);
    }
  });
});
