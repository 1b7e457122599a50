import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Algorithms } from '../../lib/algorithms.js';
import { CIPHER_NAMES, MAC_NAMES, cipherAlgorithms, createPacketProtection, macAlgorithms } from '../../lib/cipher/registry.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { randomKeys } from './packets.js';

describe('cipher registry', () => {
  it('holds exactly the names in CIPHER_NAMES, each under its own name', () => {
    expect([...cipherAlgorithms.keys()].sort()).toEqual([...CIPHER_NAMES].sort());
    for (const [name, algorithm] of cipherAlgorithms) expect(algorithm.name).toBe(name);
  });

  it('holds exactly the names in MAC_NAMES, each under its own name', () => {
    expect([...macAlgorithms.keys()].sort()).toEqual([...MAC_NAMES].sort());
    for (const [name, algorithm] of macAlgorithms) expect(algorithm.name).toBe(name);
  });

  it('implements every encryption and MAC name the public Algorithms constants offer', () => {
    expect([...Object.values(Algorithms.encryption)].sort()).toEqual([...CIPHER_NAMES].sort());
    expect([...Object.values(Algorithms.hmac)].sort()).toEqual([...MAC_NAMES].sort());
  });

  it.each([...cipherAlgorithms.values()])('declares consistent sizes for $name', (algorithm) => {
    const keys = randomKeys();
    const mac = algorithm.aead ? undefined : macAlgorithms.get('hmac-sha2-256')!;
    const sealing = algorithm.sealing(keys, mac);
    const opening = algorithm.opening(keys, mac);
    expect(sealing.tagLength).toBe(opening.tagLength);
    expect(sealing.blockSize).toBe(Math.max(8, algorithm.blockSize));
    expect(algorithm.aead).toBe(algorithm.name.includes('gcm') || algorithm.name.includes('poly1305'));
  });
});

describe('createPacketProtection', () => {
  it('builds matching opening and sealing keys from negotiated names', () => {
    const keys = randomKeys();
    const sealing = createPacketProtection({ cipher: 'aes256-ctr', mac: 'hmac-sha2-256-etm@openssh.com', keys, direction: 'sealing' });
    const opening = createPacketProtection({ cipher: 'aes256-ctr', mac: 'hmac-sha2-256-etm@openssh.com', keys, direction: 'opening' });
    expect(sealing.tagLength).toBe(32);
    expect(sealing.lengthExcludedFromPadding).toBe(true);
    expect(opening.lengthPrefixBytes).toBe(4);
  });

  it('ignores the MAC for AEAD ciphers', () => {
    const keys = randomKeys();
    const sealing = createPacketProtection({ cipher: 'aes128-gcm@openssh.com', keys, direction: 'sealing' });
    expect(sealing.tagLength).toBe(16);
    expect(createPacketProtection({ cipher: 'chacha20-poly1305@openssh.com', mac: 'whatever', keys, direction: 'opening' }).tagLength).toBe(16);
  });

  it.each([
    { cipher: 'blowfish-cbc', mac: 'none', message: 'Unknown cipher blowfish-cbc' },
    { cipher: 'aes128-ctr', mac: 'hmac-md5', message: 'Unknown MAC hmac-md5 for cipher aes128-ctr' },
    { cipher: 'aes128-ctr', mac: undefined, message: 'Unknown MAC undefined for cipher aes128-ctr' },
  ])('rejects $cipher with $mac as KEY_EXCHANGE_FAILED', ({ cipher, mac, message }) => {
    expect(() => createPacketProtection({ cipher, mac, keys: randomKeys(), direction: 'sealing' })).toThrow(
      expect.objectContaining({ reason: DisconnectReason.keyExchangeFailed, message }),
    );
    expect(() => createPacketProtection({ cipher, mac, keys: randomKeys(), direction: 'sealing' })).toThrow(ProtocolError);
  });

  it('rejects key material shorter than the algorithm needs', () => {
    const keys = { iv: randomBytes(16), encryptionKey: randomBytes(16), integrityKey: randomBytes(64) };
    expect(() => createPacketProtection({ cipher: 'aes256-ctr', mac: 'none', keys, direction: 'opening' })).toThrow(
      /aes256-ctr needs a 32-byte key and 16-byte IV, got 16 and 16/,
    );
    const shortMac = { iv: randomBytes(16), encryptionKey: randomBytes(32), integrityKey: randomBytes(32) };
    expect(() => createPacketProtection({ cipher: 'aes256-ctr', mac: 'hmac-sha2-512', keys: shortMac, direction: 'sealing' })).toThrow(
      /hmac-sha2-512 needs a 64-byte key, got 32/,
    );
  });
});
