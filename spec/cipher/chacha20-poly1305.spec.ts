import { createCipheriv, randomBytes } from 'node:crypto';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { describe, expect, it } from 'vitest';
import { SUITES, cipherOf } from './suites.js';
import { buildPacket, expectPiecesMatchSeal, nativeChaCha, readPacket } from './packets.js';
import { hex, loadVectors } from './vectors.js';

interface ChaChaCase { name: string; key: string; nonce: string; counter: number; plaintext: string; ciphertext: string }
interface PolyCase { name: string; key: string; message: string; tag: string }

const chacha = loadVectors<ChaChaCase>('chacha20');
const poly = loadVectors<PolyCase>('poly1305');

/** OpenSSL's chacha20 IV: 32-bit little-endian block counter, then the 96-bit RFC 8439 nonce. */
function opensslIv(counter: number, nonce96: Uint8Array): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  iv.set(nonce96, 4);
  return iv;
}

describe.each(SUITES)('chacha20-poly1305@openssh.com ($name)', ({ suite }) => {
  const chacha20Poly1305 = cipherOf(suite, 'chacha20-poly1305@openssh.com');
  it.each(chacha.cases)('matches $name through node:crypto chacha20', (c) => {
    const out = createCipheriv('chacha20', hex(c.key), opensslIv(c.counter, hex(c.nonce))).update(hex(c.plaintext));
    expect(out.toString('hex')).toBe(c.ciphertext);
  });

  it('matches RFC 8439 §2.4.2 when the IV is laid out as a 64-bit counter and a 64-bit nonce', () => {
    // The RFC's 96-bit nonce 00000000 0000004a 00000000 is, in OpenSSH's layout, counter high word 0
    // and 64-bit nonce 0000004a00000000: the IV becomes counterLE32 || 00000000 || nonce64.
    const c = chacha.cases.find((x) => x.name.includes('2.4.2'))!;
    const iv = Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.alloc(4), hex('0000004a00000000')]);
    expect(createCipheriv('chacha20', hex(c.key), iv).update(hex(c.plaintext)).toString('hex')).toBe(c.ciphertext);
  });

  it.each(poly.cases)('computes the Poly1305 tag of $name', (c) => {
    expect(Buffer.from(poly1305(hex(c.message), hex(c.key))).toString('hex')).toBe(c.tag);
  });

  it.each([
    { sequence: 0, size: 77 },
    { sequence: 1, size: 600 },
    { sequence: 0x01020304, size: 4096 },
    { sequence: 0xfffffffe, size: 32768 },
    { sequence: 0xffffffff, size: 70000 },
  ])('seals packet $sequence with $size payload bytes exactly as the PROTOCOL.chacha20poly1305 construction does', ({ sequence, size }) => {
    const key = randomBytes(64);
    const sealing = chacha20Poly1305.sealing({ iv: new Uint8Array(0), encryptionKey: key, integrityKey: new Uint8Array(0) }, undefined);
    const packet = buildPacket(randomBytes(size), sealing);
    const clear = packet.slice(0, packet.length - 16);
    const wire = sealing.seal(sequence, packet);

    // Independent construction: DJB ChaCha20 (64-bit counter, 64-bit nonce) from @noble/ciphers.
    const nonce = Buffer.alloc(8);
    nonce.writeUInt32BE(sequence, 4);
    const mainKey = key.subarray(0, 32);
    const lengthKey = key.subarray(32, 64);
    const encryptedLength = chacha20orig(lengthKey, nonce, clear.subarray(0, 4));
    const encryptedBody = chacha20orig(mainKey, nonce, clear.subarray(4), undefined, 1);
    const polyKey = chacha20orig(mainKey, nonce, new Uint8Array(32));
    const covered = Buffer.concat([encryptedLength, encryptedBody]);
    const expected = Buffer.concat([covered, poly1305(covered, polyKey)]);
    expect(Buffer.from(wire).toString('hex')).toBe(expected.toString('hex'));
  });

  it('seals into pieces, where the suite offers it, the bytes seal gives, leaving the packet as it was', () => {
    const keys = { iv: new Uint8Array(0), encryptionKey: randomBytes(64), integrityKey: new Uint8Array(0) };
    // Both Poly1305 paths: the JavaScript one below 4096 bytes, the native AEAD one above.
    const [inPieces, whole] = [chacha20Poly1305.sealing(keys, undefined), chacha20Poly1305.sealing(keys, undefined)];
    expectPiecesMatchSeal({ inPieces, whole, offered: suite.name === 'node:crypto' && nativeChaCha, sizes: [1, 16, 1000, 4080, 4100, 32768] });
  });

  it('opens what it seals and reads the length with K_1 only', () => {
    const keys = { iv: new Uint8Array(0), encryptionKey: randomBytes(64), integrityKey: new Uint8Array(0) };
    const sealing = chacha20Poly1305.sealing(keys, undefined);
    const opening = chacha20Poly1305.opening(keys, undefined);
    const payload = randomBytes(300);
    const wire = sealing.seal(5, buildPacket(payload, sealing)).slice();
    expect(Buffer.from(readPacket(opening, 5, wire).payload).equals(payload)).toBe(true);
  });

  it('rejects a key shorter than 64 bytes', () => {
    const keys = { iv: new Uint8Array(0), encryptionKey: randomBytes(32), integrityKey: new Uint8Array(0) };
    expect(() => chacha20Poly1305.sealing(keys, undefined)).toThrow(/64-byte key, got 32/);
  });
});
