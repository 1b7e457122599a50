import { createCipheriv, randomBytes } from 'node:crypto';
import { ctr } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { hmacSha2_256, macNone } from '../../lib/cipher/mac-algorithms.js';
import { SUITES, cipherOf } from './suites.js';
import type { CipherAlgorithm } from '../../lib/cipher/types.js';
import { buildPacket, readPacket } from './packets.js';
import { hex, loadVectors } from './vectors.js';

interface CtrCase { name: string; cipher: string; key: string; iv: string; plaintext: string; ciphertext: string }
const vectors = loadVectors<CtrCase>('aes-ctr');

describe.each(SUITES)('aes-ctr ($name)', ({ suite }) => {
  const [aes128Ctr, aes192Ctr, aes256Ctr] = ['aes128-ctr', 'aes192-ctr', 'aes256-ctr'].map((name) => cipherOf(suite, name)) as [
    CipherAlgorithm, CipherAlgorithm, CipherAlgorithm,
  ];
  const algorithms = new Map([aes128Ctr, aes192Ctr, aes256Ctr].map((a) => [a.name, a]));

  it.each(vectors.cases)('matches $name through node:crypto', (c) => {
    const cipher = createCipheriv(c.cipher.replace(/^aes(\d+)-ctr$/, 'aes-$1-ctr'), hex(c.key), hex(c.iv));
    expect(cipher.update(hex(c.plaintext)).toString('hex')).toBe(c.ciphertext);
  });

  it.each(vectors.cases)('seals a 64-byte packet with the $name key stream', (c) => {
    const algorithm = algorithms.get(c.cipher)!;
    const keys = { iv: hex(c.iv), encryptionKey: hex(c.key), integrityKey: new Uint8Array(0) };
    const sealing = algorithm.sealing(keys, macNone);
    // packet_length 60 with 4 + 60 = 64 bytes: four blocks, the length of the SP 800-38A vector.
    const packet = buildPacket(randomBytes(64 - 4 - 1 - 11), sealing);
    expect(packet.length).toBe(64);
    const keyStream = Buffer.from(hex(c.plaintext).map((byte, i) => byte ^ hex(c.ciphertext)[i]!));
    const expected = Buffer.from(packet.map((byte, i) => byte ^ keyStream[i]!));
    expect(Buffer.from(sealing.seal(0, packet)).equals(expected)).toBe(true);
  });

  it.each([aes128Ctr, aes192Ctr, aes256Ctr])('continues one $name counter across packets', (algorithm) => {
    const keys = { iv: randomBytes(16), encryptionKey: randomBytes(algorithm.keyLength), integrityKey: randomBytes(32) };
    const sealing = algorithm.sealing(keys, hmacSha2_256);
    const opening = algorithm.opening(keys, hmacSha2_256);
    const packets = [5, 1000, 33].map((size) => buildPacket(randomBytes(size), sealing));
    const clear = Buffer.concat(packets.map((p) => p.subarray(0, p.length - 32)));
    const wires = packets.map((p, i) => sealing.seal(i, p).slice());
    const encrypted = Buffer.concat(wires.map((w) => w.subarray(0, w.length - 32)));
    // Independent implementation: one @noble/ciphers CTR stream over every packet back to back.
    expect(encrypted.equals(Buffer.from(ctr(keys.encryptionKey, keys.iv).encrypt(clear)))).toBe(true);
    wires.forEach((wire, i) => expect(readPacket(opening, i, wire).used).toBe(wire.length));
  });

  it('needs only the four length bytes to learn packet_length', () => {
    const keys = { iv: randomBytes(16), encryptionKey: randomBytes(32), integrityKey: randomBytes(32) };
    expect(aes256Ctr.opening(keys, hmacSha2_256).lengthPrefixBytes).toBe(4);
  });
});
