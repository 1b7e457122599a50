import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CIPHER_NAMES, MAC_NAMES, cipherAlgorithms, createPacketProtection } from '../../lib/cipher/registry.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { buildPacket, copyKeys, randomKeys, readPacket } from './packets.js';

const combinations = CIPHER_NAMES.flatMap((cipher) => MAC_NAMES.map((mac) => ({ cipher, mac })));
// Without a MAC a non-AEAD cipher does not authenticate anything (RFC 4253 §6.4 `none`).
const protectedCombinations = combinations.filter(({ cipher, mac }) => cipherAlgorithms.get(cipher)!.aead || mac !== 'none');
const sizes = [1, 2, 3, 4, 5, 11, 12, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 4095, 4096, 32768, 35000, 65535, 70000];

function pair(cipher: string, mac: string) {
  const keys = randomKeys();
  return {
    sealing: createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'sealing' }),
    opening: createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'opening' }),
  };
}

function expectProtocolError(run: () => unknown, reason?: DisconnectReason): ProtocolError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  if (reason !== undefined) expect((caught as ProtocolError).reason).toBe(reason);
  return caught as ProtocolError;
}

describe('packet protection', () => {
  it.each(combinations)('round-trips packets of 1 to 70000 bytes with $cipher and $mac', ({ cipher, mac }) => {
    const { sealing, opening } = pair(cipher, mac);
    const payloads = sizes.map((size) => randomBytes(size));
    const start = 0xfffffff0; // crosses the 2^32 sequence wrap (RFC 4253 §6.4)
    const sealed = payloads.map((payload, i) => sealing.seal((start + i) >>> 0, buildPacket(payload, sealing)).slice());
    const wire = Buffer.concat(sealed);
    let offset = 0;
    payloads.forEach((payload, i) => {
      const { payload: opened, used } = readPacket(opening, (start + i) >>> 0, wire.subarray(offset));
      expect(used).toBe(sealed[i]!.length);
      expect(Buffer.from(opened).equals(payload)).toBe(true);
      offset += used;
    });
    expect(offset).toBe(wire.length);
  });

  it.each(combinations)('aligns the padding as $cipher with $mac requires', ({ cipher, mac }) => {
    const { sealing } = pair(cipher, mac);
    const algorithm = cipherAlgorithms.get(cipher)!;
    expect(sealing.blockSize).toBe(Math.max(8, algorithm.blockSize));
    const excluded = algorithm.aead || mac.includes('-etm@');
    expect(sealing.lengthExcludedFromPadding).toBe(excluded);
    for (const size of [1, 7, 8, 9, 100]) {
      const packet = buildPacket(randomBytes(size), sealing);
      const aligned = packet.length - sealing.tagLength - (excluded ? 4 : 0);
      expect(aligned % sealing.blockSize).toBe(0);
      expect(sealing.seal(0, packet).length).toBe(packet.length);
    }
  });

  it.each(protectedCombinations)('rejects a flipped bit in the body or the tag with MAC_ERROR under $cipher and $mac', ({ cipher, mac }) => {
    for (const where of ['first body byte', 'middle', 'last tag byte'] as const) {
      const keys = randomKeys();
      const sealing = createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'sealing' });
      const opening = createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'opening' });
      const tampered = sealing.seal(7, buildPacket(randomBytes(100), sealing)).slice();
      // The first byte past what decryptLength consumes (CBC's first block belongs to the length test).
      const position = where === 'first body byte' ? opening.lengthPrefixBytes : where === 'middle' ? tampered.length >> 1 : tampered.length - 1;
      tampered[position]! ^= 0x10;
      expectProtocolError(() => readPacket(opening, 7, tampered), DisconnectReason.macError);
    }
  });

  it.each(protectedCombinations)('rejects a flipped packet_length bit under $cipher and $mac', ({ cipher, mac }) => {
    const keys = randomKeys();
    const sealing = createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'sealing' });
    const opening = createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'opening' });
    const sealed = sealing.seal(3, buildPacket(randomBytes(100), sealing));
    // Flip the bit worth one block so the length stays aligned; trailing bytes let the reader read the longer length.
    const tampered = Buffer.concat([sealed, randomBytes(64)]);
    tampered[3]! ^= sealing.blockSize;
    // Non-EtM CBC decrypts the whole first block for the length, so a flipped bit garbles the length
    // itself and the reader rejects it as PROTOCOL_ERROR before any MAC can be checked.
    const garblesLength = cipher === 'aes256-cbc' && !mac.includes('-etm@');
    expectProtocolError(() => readPacket(opening, 3, tampered), garblesLength ? undefined : DisconnectReason.macError);
  });

  it.each(protectedCombinations.filter(({ cipher }) => !cipher.includes('-gcm@')))(
    'rejects a packet opened under the wrong sequence number with $cipher and $mac',
    ({ cipher, mac }) => {
      const keys = randomKeys();
      const sealing = createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'sealing' });
      const opening = createPacketProtection({ cipher, mac, keys: copyKeys(keys), direction: 'opening' });
      const wire = sealing.seal(41, buildPacket(randomBytes(100), sealing));
      // chacha20-poly1305 derives the length key stream from the sequence number too, so the length
      // usually decrypts to garbage first (PROTOCOL_ERROR); everywhere else the MAC catches it.
      const lengthFirst = cipher.startsWith('chacha20');
      expectProtocolError(() => readPacket(opening, 42, wire), lengthFirst ? undefined : DisconnectReason.macError);
    },
  );

  it.each(['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'])('rejects a skipped packet with MAC_ERROR under %s', (cipher) => {
    const { sealing, opening } = pair(cipher, 'none');
    sealing.seal(0, buildPacket(randomBytes(10), sealing));
    const second = sealing.seal(1, buildPacket(randomBytes(10), sealing));
    // RFC 5647 §7.1: the invocation counter, not the sequence number, must match.
    expectProtocolError(() => readPacket(opening, 1, second), DisconnectReason.macError);
  });

  it.each(combinations)('answers decryptLength again for the same packet without advancing under $cipher and $mac', ({ cipher, mac }) => {
    const { sealing, opening } = pair(cipher, mac);
    const wire = sealing.seal(9, buildPacket(randomBytes(50), sealing)).slice();
    const prefix = wire.subarray(0, opening.lengthPrefixBytes);
    const before = Buffer.from(prefix);
    const first = opening.decryptLength(9, prefix);
    expect(opening.decryptLength(9, prefix)).toBe(first);
    expect(Buffer.from(prefix).equals(before)).toBe(true);
    expect(opening.open(9, wire.subarray(0, 4 + first + opening.tagLength))[0]).toBeGreaterThanOrEqual(4);
  });

  it.each(combinations)('refuses to work after destroy under $cipher and $mac', ({ cipher, mac }) => {
    const { sealing, opening } = pair(cipher, mac);
    sealing.destroy();
    opening.destroy();
    expect(() => sealing.seal(0, buildPacket(randomBytes(10), sealing))).toThrow(/after destroy/);
    expect(() => opening.decryptLength(0, new Uint8Array(16))).toThrow(/after destroy/);
  });

  it('refuses to seal a packet whose length disagrees with its buffer', () => {
    const { sealing } = pair('aes256-ctr', 'hmac-sha2-256');
    const packet = buildPacket(randomBytes(20), sealing);
    expect(() => sealing.seal(0, packet.subarray(0, packet.length - 1))).toThrow(/Cannot seal/);
  });

  it('refuses to open a packet whose length was not decrypted first, or of the wrong size', () => {
    const { sealing, opening } = pair('aes128-ctr', 'hmac-sha2-256');
    const wire = sealing.seal(0, buildPacket(randomBytes(20), sealing)).slice();
    expect(() => opening.open(0, wire)).toThrow(/Packet 0 opened before its length was decrypted/);
    opening.decryptLength(0, wire.subarray(0, opening.lengthPrefixBytes));
    expect(() => opening.open(0, wire.subarray(0, wire.length - 1))).toThrow(`Packet 0 has ${wire.length - 1} bytes, expected ${wire.length}`);
  });

  it('refuses a non-AEAD cipher without a MAC algorithm', () => {
    expect(() => cipherAlgorithms.get('aes256-ctr')!.sealing(randomKeys(), undefined)).toThrow('Cipher aes256-ctr needs a MAC algorithm');
  });

  it('refuses AES-GCM key material shorter than the algorithm needs', () => {
    const keys = { iv: randomBytes(12), encryptionKey: randomBytes(16), integrityKey: new Uint8Array(0) };
    expect(() => cipherAlgorithms.get('aes256-gcm@openssh.com')!.opening(keys, undefined)).toThrow(
      'Cipher aes256-gcm@openssh.com needs a 32-byte key and 12-byte IV, got 16 and 12',
    );
  });
});
