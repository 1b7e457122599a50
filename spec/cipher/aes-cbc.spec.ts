import { createCipheriv, randomBytes } from 'node:crypto';
import { cbc } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { hmacSha2_512, hmacSha2_512Etm } from '../../lib/cipher/mac-algorithms.js';
import { SUITES, cipherOf } from './suites.js';
import { buildPacket, readPacket } from './packets.js';
import { hex, loadVectors } from './vectors.js';

interface CbcCase { name: string; key: string; iv: string; plaintext: string; ciphertext: string }
const vectors = loadVectors<CbcCase>('aes-cbc');

describe.each(SUITES)('aes256-cbc ($name)', ({ suite }) => {
  const aes256Cbc = cipherOf(suite, 'aes256-cbc');
  it.each(vectors.cases)('matches $name through node:crypto without padding', (c) => {
    const cipher = createCipheriv('aes-256-cbc', hex(c.key), hex(c.iv)).setAutoPadding(false);
    expect(cipher.update(hex(c.plaintext)).toString('hex')).toBe(c.ciphertext);
  });

  it.each([hmacSha2_512, hmacSha2_512Etm])('chains the cipher across packets with $name', (mac) => {
    const keys = { iv: randomBytes(16), encryptionKey: randomBytes(32), integrityKey: randomBytes(64) };
    const sealing = aes256Cbc.sealing(keys, mac);
    const opening = aes256Cbc.opening(keys, mac);
    const packets = [1, 200, 17].map((size) => buildPacket(randomBytes(size), sealing));
    const clear = Buffer.concat(packets.map((p) => p.subarray(mac.encryptThenMac ? 4 : 0, p.length - 64)));
    const wires = packets.map((p, i) => sealing.seal(i, p).slice());
    const encrypted = Buffer.concat(wires.map((w) => w.subarray(mac.encryptThenMac ? 4 : 0, w.length - 64)));
    // Independent implementation: @noble/ciphers CBC over the packets back to back (RFC 4253 §6.3).
    const expected = cbc(keys.encryptionKey, keys.iv, { disablePadding: true }).encrypt(clear);
    expect(encrypted.equals(Buffer.from(expected))).toBe(true);
    wires.forEach((wire, i) => expect(readPacket(opening, i, wire).used).toBe(wire.length));
  });

  it('reads the whole first block to learn packet_length unless the MAC is EtM', () => {
    const keys = { iv: randomBytes(16), encryptionKey: randomBytes(32), integrityKey: randomBytes(64) };
    expect(aes256Cbc.opening(keys, hmacSha2_512).lengthPrefixBytes).toBe(16);
    expect(aes256Cbc.opening(keys, hmacSha2_512Etm).lengthPrefixBytes).toBe(4);
  });
});
