import { describe, expect, it } from 'vitest';
import { PacketWriter, allocatePayload } from '../../lib/transport/packet-writer.js';
import { PacketReader } from '../../lib/transport/packet-reader.js';
import { createPacketProtection } from '../../lib/cipher/registry.js';

const keys = { iv: new Uint8Array(16).fill(3), encryptionKey: new Uint8Array(64).fill(4), integrityKey: new Uint8Array(64).fill(5) };

/** A random source that counts its calls and hands out 0, 1, 2, ... across calls. */
function countingRandom() {
  let next = 0;
  const source = {
    calls: 0,
    randomBytes: (n: number) => {
      source.calls++;
      return Uint8Array.from({ length: n }, () => next++ & 0xff);
    },
  };
  return source;
}

function writer(cipher: string, mac: string, random = countingRandom()) {
  return new PacketWriter({ sealing: createPacketProtection({ cipher, mac, keys, direction: 'sealing' }), randomBytes: random.randomBytes });
}

const suites = [
  ['aes256-gcm@openssh.com', 'none'],
  ['chacha20-poly1305@openssh.com', 'none'],
  ['aes256-ctr', 'hmac-sha2-512'],
  ['aes256-ctr', 'hmac-sha2-512-etm@openssh.com'],
  ['aes256-cbc', 'hmac-sha2-256'],
  ['none', 'none'],
] as const;

describe('PacketWriter', () => {
  it.each(suites)('seals a payload from allocatePayload in place to the same wire bytes as a copied one (%s, %s)', (cipher, mac) => {
    const copying = writer(cipher, mac);
    const inPlace = writer(cipher, mac);
    const reader = new PacketReader({ opening: createPacketProtection({ cipher, mac, keys, direction: 'opening' }), maxPacketLength: 1 << 20 });
    for (const size of [1, 5, 31, 1000, 65536 + 9]) {
      const plain = Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff);
      const payload = allocatePayload(size);
      payload.set(plain);
      const expected = copying.write(plain.slice());
      const wire = inPlace.write(payload);
      expect(wire.buffer).toBe(payload.buffer);
      expect(Buffer.from(wire).equals(Buffer.from(expected))).toBe(true);
      reader.push(wire.slice());
      expect(Buffer.from(reader.next()!).equals(Buffer.from(plain))).toBe(true);
    }
  });

  it('leaves a payload that did not come from allocatePayload untouched', () => {
    const w = writer('aes256-gcm@openssh.com', 'none');
    const payload = new Uint8Array(64).fill(9);
    const wire = w.write(payload);
    expect(wire.buffer).not.toBe(payload.buffer);
    expect(payload.every((b) => b === 9)).toBe(true);
  });

  it('copies a payload that already went out in place instead of sealing its buffer twice', () => {
    const w = writer('aes256-gcm@openssh.com', 'none');
    const payload = allocatePayload(16);
    const first = w.write(payload);
    const second = w.write(payload);
    expect(first.buffer).toBe(payload.buffer);
    expect(second.buffer).not.toBe(payload.buffer);
  });

  it('draws padding from a pool of random bytes, each byte used once', () => {
    const random = countingRandom();
    const w = writer('none', 'none', random);
    const paddings: number[] = [];
    for (let i = 0; i < 200; i++) {
      const wire = w.write(new Uint8Array(1 + (i % 13)).fill(94));
      const packetLength = new DataView(wire.buffer, wire.byteOffset).getUint32(0);
      paddings.push(...wire.subarray(4 + packetLength - wire[4]!, 4 + packetLength));
    }
    expect(random.calls).toBe(1);
    expect(paddings).toEqual(paddings.map((_, i) => i & 0xff));
  });
});
