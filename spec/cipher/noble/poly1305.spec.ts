import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { poly1305Into } from '../../../lib/cipher/noble/poly1305.js';
import { SshError } from '../../../lib/errors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

function tag(key: Uint8Array, message: Uint8Array): string {
  const out = new Uint8Array(16);
  poly1305Into(key, message, out);
  return hex(out);
}

const IETF_TEXT =
  'Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft ' +
  'or RFC and any statement made within the context of an IETF activity is considered an "IETF Contribution". Such ' +
  'statements include oral statements in IETF sessions, as well as written and electronic communications made at any ' +
  'time or place, which are addressed to';

/** RFC 8439 §2.5.2 and Appendix A.3 (key = r || s). */
const VECTORS: { name: string; key: Uint8Array; message: Uint8Array; tag: string }[] = [
  {
    name: '§2.5.2',
    key: bytes('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b'),
    message: new TextEncoder().encode('Cryptographic Forum Research Group'),
    tag: 'a8061dc1305136c6c22b8baf0c0127a9',
  },
  { name: 'A.3 #1', key: new Uint8Array(32), message: new Uint8Array(64), tag: '00000000000000000000000000000000' },
  {
    name: 'A.3 #2',
    key: bytes('00000000000000000000000000000000 36e5f6b5c5e06070f0efca96227a863e'),
    message: new TextEncoder().encode(IETF_TEXT),
    tag: '36e5f6b5c5e06070f0efca96227a863e',
  },
  {
    name: 'A.3 #3',
    key: bytes('36e5f6b5c5e06070f0efca96227a863e 00000000000000000000000000000000'),
    message: new TextEncoder().encode(IETF_TEXT),
    tag: 'f3477e7cd95417af89a6b8794c310cf0',
  },
  {
    name: 'A.3 #4',
    key: bytes('1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0'),
    message: new TextEncoder().encode(
      "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.",
    ),
    tag: '4541669a7eaaee61e708dc7cbcc5eb62',
  },
  { name: 'A.3 #5', key: bytes('02'.padEnd(64, '0')), message: bytes('ff'.repeat(16)), tag: '03'.padEnd(32, '0') },
  { name: 'A.3 #6', key: bytes('02'.padEnd(32, '0') + 'ff'.repeat(16)), message: bytes('02'.padEnd(32, '0')), tag: '03'.padEnd(32, '0') },
  {
    name: 'A.3 #7',
    key: bytes('01'.padEnd(64, '0')),
    message: bytes('ff'.repeat(16) + 'f0' + 'ff'.repeat(15) + '11'.padEnd(32, '0')),
    tag: '05'.padEnd(32, '0'),
  },
  {
    name: 'A.3 #8',
    key: bytes('01'.padEnd(64, '0')),
    message: bytes('ff'.repeat(16) + 'fb' + 'fe'.repeat(15) + '01'.repeat(16)),
    tag: '00'.repeat(16),
  },
  { name: 'A.3 #9', key: bytes('02'.padEnd(64, '0')), message: bytes('fd' + 'ff'.repeat(15)), tag: 'fa' + 'ff'.repeat(15) },
  {
    name: 'A.3 #10',
    key: bytes('01000000000000000400000000000000'.padEnd(64, '0')),
    message: bytes(
      'e33594d7505e43b90000000000000000 3394d7505e4379cd0100000000000000 00000000000000000000000000000000 01000000000000000000000000000000',
    ),
    tag: '14000000000000005500000000000000',
  },
  {
    name: 'A.3 #11',
    key: bytes('01000000000000000400000000000000'.padEnd(64, '0')),
    message: bytes('e33594d7505e43b90000000000000000 3394d7505e4379cd0100000000000000 00000000000000000000000000000000'),
    tag: '13000000000000000000000000000000',
  },
];

/** A copy of `message` starting `offset` bytes into a larger buffer: exercises both word readers. */
function atOffset(message: Uint8Array, offset: number): Uint8Array {
  const holder = new Uint8Array(message.length + offset);
  holder.set(message, offset);
  return holder.subarray(offset);
}

describe('poly1305Into (RFC 8439 Poly1305 in 22-bit limbs)', () => {
  it.each(VECTORS)('gives the RFC 8439 tag for vector $name, at every alignment', ({ key, message, tag: expected }) => {
    expect(hex(noblePoly1305(message, key))).toBe(expected);
    for (const offset of [0, 1, 2, 3, 4]) expect(tag(key, atOffset(message, offset))).toBe(expected);
  });

  it('equals @noble/ciphers on arbitrary keys and messages at any alignment (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 7 }),
        (key, message, offset) => {
          expect(tag(key, atOffset(message, offset))).toBe(hex(noblePoly1305(message, key)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('equals @noble/ciphers where the limbs run highest: all-0xff keys and messages, every length to 80 and packet sizes', () => {
    const keys = [new Uint8Array(32).fill(0xff), bytes('ff'.repeat(16) + '00'.repeat(16)), bytes('00'.repeat(16) + 'ff'.repeat(16))];
    const lengths = [...Array.from({ length: 81 }, (_, i) => i), 4 + 32768, 4 + 65536, 4 + 262144];
    for (const key of keys) {
      for (const length of lengths) {
        const message = new Uint8Array(length).fill(0xff);
        expect(tag(key, message), `length ${length}`).toBe(hex(noblePoly1305(message, key)));
      }
    }
  });

  it('equals @noble/ciphers on packet-sized random messages (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1000, max: 70000 }), fc.integer(), (key, length, seed) => {
        const message = new Uint8Array(length);
        let state = seed >>> 0 || 1;
        for (let i = 0; i < length; i++) {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          message[i] = state;
        }
        expect(tag(key, message)).toBe(hex(noblePoly1305(message, key)));
      }),
      { numRuns: 40 },
    );
  });

  it('writes the tag at the given offset and nothing else', () => {
    const out = new Uint8Array(40).fill(0xaa);
    const { key, message, tag: expected } = VECTORS[0]!;
    poly1305Into(key, message, out, 20);
    expect(hex(out.subarray(20, 36))).toBe(expected);
    expect([...out.subarray(0, 20), ...out.subarray(36)].every((b) => b === 0xaa)).toBe(true);
  });

  it('refuses a key that is not 32 bytes and output without room for the tag, with the sizes in the message', () => {
    expect(() => poly1305Into(new Uint8Array(31), new Uint8Array(16), new Uint8Array(16))).toThrow(SshError);
    expect(() => poly1305Into(new Uint8Array(31), new Uint8Array(16), new Uint8Array(16))).toThrow(/31-byte key/);
    expect(() => poly1305Into(new Uint8Array(32), new Uint8Array(16), new Uint8Array(20), 5)).toThrow(/15 bytes at offset 5/);
  });
});
