import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CipherGCMTypes } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { SUITES, cipherOf } from './suites.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { buildPacket, expectPiecesMatchSeal } from './packets.js';
import { hex, loadVectors } from './vectors.js';

interface GcmCase { name: string; key: string; iv: string; aad: string; plaintext: string; ciphertext: string; tag: string }
const vectors = loadVectors<GcmCase>('aes-gcm');
const nodeName = (key: Buffer): CipherGCMTypes => (key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm');

/** RFC 5647 §7.1: fixed field, then the invocation counter plus `n` modulo 2^64. */
function nonceAfter(initial: Uint8Array, n: number): Buffer {
  const nonce = Buffer.from(initial.subarray(0, 12));
  nonce.writeBigUInt64BE((nonce.readBigUInt64BE(4) + BigInt(n)) & 0xffffffffffffffffn, 4);
  return nonce;
}

describe.each(SUITES)('aes-gcm@openssh.com ($name)', ({ suite }) => {
  const aes128Gcm = cipherOf(suite, 'aes128-gcm@openssh.com');
  const aes256Gcm = cipherOf(suite, 'aes256-gcm@openssh.com');
  it.each(vectors.cases)('matches $name through node:crypto', (c) => {
    const cipher = createCipheriv(nodeName(hex(c.key)), hex(c.key), hex(c.iv));
    cipher.setAAD(hex(c.aad));
    const ciphertext = Buffer.concat([cipher.update(hex(c.plaintext)), cipher.final()]);
    expect(ciphertext.toString('hex')).toBe(c.ciphertext);
    expect(cipher.getAuthTag().toString('hex')).toBe(c.tag);

    const decipher = createDecipheriv(nodeName(hex(c.key)), hex(c.key), hex(c.iv), { authTagLength: 16 });
    decipher.setAAD(hex(c.aad));
    decipher.setAuthTag(hex(c.tag));
    expect(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('hex')).toBe(c.plaintext);
  });

  it.each([aes128Gcm, aes256Gcm])('seals each packet under the next invocation counter, carrying across bytes, with $name', (algorithm) => {
    const key = randomBytes(algorithm.keyLength);
    // The counter starts two below a 2^32 boundary so the third packet carries into the upper half.
    const iv = Buffer.concat([randomBytes(4), hex('00000000fffffffe')]);
    const sealing = algorithm.sealing({ iv, encryptionKey: key, integrityKey: new Uint8Array(0) }, undefined);
    for (let n = 0; n < 4; n++) {
      const packet = buildPacket(randomBytes(40 + n), sealing);
      const clear = packet.slice(0, packet.length - 16);
      const wire = sealing.seal(1000 + n, packet);
      // Independent implementation: @noble/ciphers GCM with packet_length as the AAD (RFC 5647 §7.3).
      const expected = gcm(key, nonceAfter(iv, n), clear.subarray(0, 4)).encrypt(clear.subarray(4));
      expect(Buffer.from(wire.subarray(4)).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
      expect(Buffer.from(wire.subarray(0, 4)).equals(clear.subarray(0, 4))).toBe(true);
    }
  });

  it.each([aes128Gcm, aes256Gcm])('seals into pieces, where the suite offers it, the bytes seal gives, leaving the packet as it was, with $name', (algorithm) => {
    const keys = { iv: randomBytes(12), encryptionKey: randomBytes(algorithm.keyLength), integrityKey: new Uint8Array(0) };
    expectPiecesMatchSeal({ inPieces: algorithm.sealing(keys, undefined), whole: algorithm.sealing(keys, undefined), offered: suite.name === 'node:crypto', sizes: [1, 16, 1000, 32768] });
  });

  it('wraps the invocation counter modulo 2^64', () => {
    const key = randomBytes(32);
    const iv = Buffer.concat([randomBytes(4), hex('ffffffffffffffff')]);
    const sealing = aes256Gcm.sealing({ iv, encryptionKey: key, integrityKey: new Uint8Array(0) }, undefined);
    sealing.seal(0, buildPacket(randomBytes(8), sealing));
    const packet = buildPacket(randomBytes(8), sealing);
    const clear = packet.slice(0, packet.length - 16);
    const wire = sealing.seal(1, packet);
    const expected = gcm(key, nonceAfter(iv, 1), clear.subarray(0, 4)).encrypt(clear.subarray(4));
    expect(Buffer.from(wire.subarray(4)).equals(Buffer.from(expected))).toBe(true);
  });

  it('reports a bad tag as MAC_ERROR naming the packet', () => {
    const keys = { iv: randomBytes(12), encryptionKey: randomBytes(32), integrityKey: new Uint8Array(0) };
    const sealing = aes256Gcm.sealing(keys, undefined);
    const opening = aes256Gcm.opening(keys, undefined);
    const wire = sealing.seal(0, buildPacket(randomBytes(20), sealing));
    wire[wire.length - 1]! ^= 1;
    const length = opening.decryptLength(12, wire);
    expect(length).toBe(wire.length - 20);
    const error = (() => {
      try {
        opening.open(12, wire);
      } catch (e) {
        return e as ProtocolError;
      }
    })();
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error!.reason).toBe(DisconnectReason.macError);
    expect(error!.message).toBe('Bad AES-GCM tag on packet 12');
  });
});
