/**
 * Differential check against the `ssh2` package's packet crypto (a devDependency that
 * interoperates with OpenSSH): packets we seal must open there, and packets it seals must open
 * here, for every cipher and MAC both implement.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CIPHER_NAMES, MAC_NAMES, cipherAlgorithms, createPacketProtection } from '../../lib/cipher/registry.js';
import { buildPacket, readPacket } from './packets.js';

interface Ssh2Info { keyLen: number; ivLen: number; len?: number }
interface Ssh2Crypto {
  CIPHER_INFO: Record<string, Ssh2Info>;
  MAC_INFO: Record<string, Ssh2Info>;
  init: Promise<void>;
  createCipher(config: unknown): { allocPacket(n: number): Buffer; encrypt(packet: Buffer): void };
  createDecipher(config: unknown): { decrypt(data: Buffer, p: number, end: number): void };
}
const ssh2 = createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as Ssh2Crypto;

// ssh2 declares aes256-cbc without an IV, so only the modes it carries whole are compared.
const ciphers = CIPHER_NAMES.filter((name) => name !== 'none' && name !== 'aes256-cbc' && ssh2.CIPHER_INFO[name]);
const combinations = ciphers.flatMap((cipher) =>
  cipherAlgorithms.get(cipher)!.aead
    ? [{ cipher, mac: 'none' }]
    : MAC_NAMES.filter((mac) => mac !== 'none' && ssh2.MAC_INFO[mac]).map((mac) => ({ cipher, mac })),
);
const sizes = [1, 15, 16, 100, 1000, 4097, 32768];
const startSequence = 0xfffffffd;

function material(cipher: string, mac: string) {
  const info = ssh2.CIPHER_INFO[cipher]!;
  const macInfo = ssh2.MAC_INFO[mac];
  return {
    key: randomBytes(info.keyLen),
    iv: randomBytes(info.ivLen),
    macKey: randomBytes(macInfo?.len ?? 0),
    ssh2: { cipherInfo: info, macInfo, decipherInfo: info },
  };
}

describe('ssh2 cross-check', () => {
  beforeAll(async () => {
    await ssh2.init;
  });

  it.each(combinations)('opens in ssh2 what we seal with $cipher and $mac', ({ cipher, mac }) => {
    const m = material(cipher, mac);
    const sealing = createPacketProtection({ cipher, mac, keys: { iv: m.iv, encryptionKey: m.key, integrityKey: m.macKey }, direction: 'sealing' });
    const received: Buffer[] = [];
    const decipher = ssh2.createDecipher({
      inbound: {
        onPayload: (payload: Buffer) => { received.push(Buffer.from(payload)); },
        decipherInfo: m.ssh2.decipherInfo, decipherKey: m.key, decipherIV: m.iv,
        macInfo: m.ssh2.macInfo, macKey: m.macKey, seqno: startSequence,
      },
    });
    const payloads = sizes.map((size) => randomBytes(size));
    payloads.forEach((payload, i) => {
      const wire = Buffer.from(sealing.seal((startSequence + i) >>> 0, buildPacket(payload, sealing)));
      decipher.decrypt(wire, 0, wire.length);
    });
    expect(received.map((p) => p.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
  });

  it.each(combinations)('opens what ssh2 seals with $cipher and $mac', ({ cipher, mac }) => {
    const m = material(cipher, mac);
    const opening = createPacketProtection({ cipher, mac, keys: { iv: m.iv, encryptionKey: m.key, integrityKey: m.macKey }, direction: 'opening' });
    let wire: Buffer[] = [];
    const ssh2Cipher = ssh2.createCipher({
      outbound: {
        onWrite: (chunk: Buffer) => { wire.push(Buffer.from(chunk)); },
        cipherInfo: m.ssh2.cipherInfo, cipherKey: m.key, cipherIV: m.iv,
        macInfo: m.ssh2.macInfo, macKey: m.macKey, seqno: startSequence,
      },
    });
    sizes.forEach((size, i) => {
      const payload = randomBytes(size);
      const packet = ssh2Cipher.allocPacket(size);
      packet.set(payload, 5);
      wire = [];
      ssh2Cipher.encrypt(packet);
      const bytes = Buffer.concat(wire);
      const { payload: opened, used } = readPacket(opening, (startSequence + i) >>> 0, bytes);
      expect(used).toBe(bytes.length);
      expect(Buffer.from(opened).toString('hex')).toBe(payload.toString('hex'));
    });
  });
});
