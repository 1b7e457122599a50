import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketReader } from '../../lib/transport/packet-reader.js';
import { PacketWriter } from '../../lib/transport/packet-writer.js';
import { CIPHER_NAMES, cipherAlgorithms, createPacketProtection } from '../../lib/cipher/registry.js';
import { ProtocolError } from '../../lib/errors.js';
import { concatBytes } from '../../lib/codec/wire.js';
import { everySplit } from '../helpers/chunking.js';
import { createDeterministicRandom } from '../helpers/random.js';
import { propertyParameters } from '../helpers/property.js';

const NEWKEYS = Uint8Array.of(21);

const keys = (n: number) => ({
  iv: new Uint8Array(16).fill(n),
  encryptionKey: new Uint8Array(64).fill(n + 1),
  integrityKey: new Uint8Array(64).fill(n + 2),
});

/** Every cipher, each non-AEAD one with an encrypt-then-MAC and an encrypt-and-MAC MAC. */
const suites: [string, string][] = CIPHER_NAMES.flatMap((cipher): [string, string][] =>
  cipherAlgorithms.get(cipher)!.aead ? [[cipher, 'none']] : [[cipher, 'hmac-sha2-256-etm@openssh.com'], [cipher, 'hmac-sha2-512']],
);

/** A writer and a reader that switch from `none` to the suite at NEWKEYS, as after a key exchange. */
function pair(cipher: string, mac: string, seed: string) {
  const none = { cipher: 'none', mac: 'none', keys: keys(0) };
  const writer = new PacketWriter({
    sealing: createPacketProtection({ ...none, direction: 'sealing' }),
    randomBytes: createDeterministicRandom(seed).randomBytes,
  });
  const reader = new PacketReader({ opening: createPacketProtection({ ...none, direction: 'opening' }), maxPacketLength: 35000 });
  writer.prepareKeys(createPacketProtection({ cipher, mac, keys: keys(5), direction: 'sealing' }), { resetSequence: true });
  reader.prepareKeys(createPacketProtection({ cipher, mac, keys: keys(5), direction: 'opening' }), { resetSequence: true });
  return { writer, reader };
}

/** Payloads before and after the key switch; a payload never starts with 21 (NEWKEYS) by accident. */
const payload = fc.uint8Array({ minLength: 1, maxLength: 600 }).map((p) => {
  if (p[0] === 21) p[0] = 94;
  return p;
});
const session = fc.tuple(fc.array(payload, { maxLength: 3 }), fc.array(payload, { minLength: 1, maxLength: 5 }));

function wireOf(writer: PacketWriter, before: Uint8Array[], after: Uint8Array[]): Uint8Array {
  return concatBytes(...[...before, NEWKEYS, ...after].map((p) => writer.write(p).slice()));
}

/** Feeds the chunks in order and returns every payload read (copied). */
function readAll(reader: PacketReader, chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    let p;
    while ((p = reader.next()) !== undefined) out.push(Buffer.from(p).toString('hex'));
  }
  return out;
}

/** Cuts `bytes` at the given offsets (taken modulo its length, sorted, deduplicated). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const at = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    chunks.push(bytes.slice(from, to));
    from = to;
  }
  return chunks;
}

const hex = (p: Uint8Array): string => Buffer.from(p).toString('hex');

describe.each(suites)('PacketReader with %s / %s (properties)', (cipher, mac) => {
  it('yields the payloads written, whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(session, fc.array(fc.nat(), { maxLength: 30 }), fc.string(), ([before, after], offsets, seed) => {
        const wire = wireOf(pair(cipher, mac, seed).writer, before, after);
        const { reader } = pair(cipher, mac, seed);
        expect(readAll(reader, cut(wire, offsets))).toEqual([...before, NEWKEYS, ...after].map(hex));
        expect(reader.buffered).toBe(0);
      }),
      propertyParameters(40),
    );
  });

  it('yields them at every single split of a short session', () => {
    const sent = [Uint8Array.of(20, 1, 2), NEWKEYS, Uint8Array.of(94, 0, 0, 0, 1, 7), Uint8Array.of(2, 0, 0, 0, 0)];
    const wire = wireOf(pair(cipher, mac, 'every').writer, sent.slice(0, 1), sent.slice(2));
    for (const chunks of everySplit(wire)) {
      expect(readAll(pair(cipher, mac, 'every').reader, chunks)).toEqual(sent.map(hex));
    }
  });

  it('never yields a payload that was not sent when ciphertext is flipped, cut or extended, and fails only with ProtocolError', () => {
    const authenticated = mac !== 'none' || cipherAlgorithms.get(cipher)!.aead;
    fc.assert(
      fc.property(
        session,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom('flip', 'truncate', 'garbage'),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        ([before, after], at, bit, how, garbage) => {
          const sent = [...before, NEWKEYS, ...after].map(hex);
          const wire = wireOf(pair(cipher, mac, 'hostile').writer, before, after);
          // Mutate only after the NEWKEYS, where the suite protects the packets.
          const protectedFrom = wireOf(pair(cipher, mac, 'hostile').writer, before, []).length;
          let mutated: Uint8Array;
          const offset = protectedFrom + (at % (wire.length - protectedFrom));
          if (how === 'flip') {
            mutated = wire.slice();
            mutated[offset]! ^= 1 << bit;
          } else if (how === 'truncate') {
            mutated = wire.slice(0, offset);
          } else {
            mutated = concatBytes(wire.subarray(0, offset), garbage, wire.subarray(offset));
          }
          const { reader } = pair(cipher, mac, 'hostile');
          const got: string[] = [];
          try {
            reader.push(mutated);
            let p;
            while ((p = reader.next()) !== undefined) got.push(hex(p));
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
          if (authenticated) {
            // Every payload delivered is the one sent at that position.
            expect(sent.slice(0, got.length)).toEqual(got);
            if (how === 'flip') expect(got.length).toBeLessThan(sent.length);
          }
        },
      ),
      propertyParameters(60),
    );
  });
});

describe('PacketReader on arbitrary bytes (properties)', () => {
  it('yields payloads, waits for more or throws a ProtocolError, for any bytes in any chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, offsets) => {
        const reader = new PacketReader({
          opening: createPacketProtection({ cipher: 'none', mac: 'none', keys: keys(0), direction: 'opening' }),
          maxPacketLength: 35000,
        });
        try {
          for (const chunk of cut(bytes, offsets)) {
            reader.push(chunk);
            while (reader.next() !== undefined);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          expect((error as Error).message).toMatch(/(packet.?length|padding length) \d+/i);
        }
      }),
      propertyParameters(300),
    );
  });
});
