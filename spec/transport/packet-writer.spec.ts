import { describe, expect, it } from 'vitest';
import { PacketWriter, allocatePayload, wireLength, type Wire } from '../../lib/transport/packet-writer.js';
import { PacketReader } from '../../lib/transport/packet-reader.js';
import { createPacketProtection } from '../../lib/cipher/registry.js';
import { deflateSync } from 'node:zlib';
import { getCiphers } from 'node:crypto';

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

/** The wire bytes of `wire` in one buffer. */
function joined(wire: Wire): Buffer {
  return Buffer.concat(Array.isArray(wire) ? wire : [wire]);
}

describe('PacketWriter.writePieces', () => {
  const reader = (cipher: string) =>
    new PacketReader({ opening: createPacketProtection({ cipher, mac: 'none', keys, direction: 'opening' }), maxPacketLength: 1 << 20 });

  it.each(['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'])('seals a large payload into pieces that match write, and hands its buffer to the next allocatePayload (%s)', (cipher) => {
    // A runtime whose node:crypto lacks chacha20-poly1305 (Bun) runs the portable cipher, which seals in place.
    if (createPacketProtection({ cipher, mac: 'none', keys, direction: 'sealing' }).sealPieces === undefined) {
      expect(cipher).toBe('chacha20-poly1305@openssh.com');
      const native = getCiphers();
      expect(native.includes('chacha20') && native.includes('chacha20-poly1305')).toBe(false);
      return;
    }
    const pieces = writer(cipher, 'none');
    const whole = writer(cipher, 'none');
    const r = reader(cipher);
    const sent: Uint8Array[] = [];
    const wires: Wire[] = [];
    let previous: ArrayBufferLike | undefined;
    for (const [i, size] of [32 * 1024 + 9, 32 * 1024 + 9, 65536 + 9, 20000].entries()) {
      const plain = Uint8Array.from({ length: size }, (_, j) => (j * 13 + i) & 0xff);
      const payload = allocatePayload(size);
      // Second of two equal sizes: the buffer the first one was sealed from, with its bytes still in it.
      if (i === 1) expect(payload.buffer).toBe(previous);
      payload.set(plain);
      const expected = whole.write(plain.slice());
      const wire = pieces.writePieces(payload);
      expect(Array.isArray(wire)).toBe(true);
      for (const piece of wire as Uint8Array[]) expect(piece.buffer).not.toBe(payload.buffer);
      expect(wireLength(wire)).toBe(expected.length);
      expect(joined(wire).equals(Buffer.from(expected))).toBe(true);
      previous = payload.buffer;
      sent.push(plain);
      wires.push(wire);
    }
    // Every packet still reads back after its buffer went on to the next payload.
    for (const [i, wire] of wires.entries()) {
      r.push(joined(wire));
      expect(Buffer.from(r.next()!).equals(Buffer.from(sent[i]!))).toBe(true);
    }
    expect(pieces.totalBytes).toBe(whole.totalBytes);
  });

  it('keeps one buffer, sealed in place and never reused, where the cipher has no pieces or the payload is small', () => {
    for (const [cipher, mac, size] of [['aes256-ctr', 'hmac-sha2-256', 40000], ['aes256-gcm@openssh.com', 'none', 100]] as const) {
      const w = writer(cipher, mac);
      const r = new PacketReader({ opening: createPacketProtection({ cipher, mac, keys, direction: 'opening' }), maxPacketLength: 1 << 20 });
      const payload = allocatePayload(size).fill(0x5a);
      const wire = w.writePieces(payload);
      expect(Array.isArray(wire)).toBe(false);
      expect((wire as Uint8Array).buffer).toBe(payload.buffer);
      expect(allocatePayload(size).buffer).not.toBe(payload.buffer);
      r.push(joined(wire));
      expect(r.next()!.every((b) => b === 0x5a)).toBe(true);
    }
  });

  it('copies a payload that did not come from allocatePayload and leaves it untouched', () => {
    const w = writer('aes256-gcm@openssh.com', 'none');
    const payload = new Uint8Array(40000).fill(9);
    const wire = w.writePieces(payload);
    expect(Array.isArray(wire)).toBe(false);
    expect(payload.every((b) => b === 9)).toBe(true);
  });
});

/** A writer and reader in the `none` state, as before the first NEWKEYS, and a way to re-key both. */
function compressingPair(maxPacketLength = 1 << 20) {
  const none = { cipher: 'none', mac: 'none', keys };
  const w = new PacketWriter({ sealing: createPacketProtection({ ...none, direction: 'sealing' }), randomBytes: countingRandom().randomBytes });
  const r = new PacketReader({ opening: createPacketProtection({ ...none, direction: 'opening' }), maxPacketLength });
  const transfer = (payload: Uint8Array) => {
    const wire = w.write(payload.slice());
    r.push(wire.slice());
    const received = r.next();
    expect(received && Buffer.from(received).equals(Buffer.from(payload))).toBe(true);
    return wire.length;
  };
  const rekey = (compression: string, cipher = 'aes256-gcm@openssh.com') => {
    w.prepareKeys(createPacketProtection({ cipher, mac: 'none', keys, direction: 'sealing' }), { compression });
    r.prepareKeys(createPacketProtection({ cipher, mac: 'none', keys, direction: 'opening' }), { compression });
    transfer(new Uint8Array([21]));
  };
  return { writer: w, reader: r, transfer, rekey };
}

/** 20 KiB of text: compresses to well under 1 KiB. */
const compressible = new Uint8Array(Buffer.from('CHANNEL_DATA compresses well. '.repeat(700)));

describe('PacketWriter and PacketReader with compression', () => {
  it('compress from the packet after NEWKEYS under zlib, and the reader inflates them', () => {
    const { writer: w, reader: r, transfer, rekey } = compressingPair();
    expect(transfer(compressible)).toBeGreaterThan(compressible.length);
    rekey('zlib');
    expect(w.isCompressing && r.isDecompressing).toBe(true);
    for (let i = 0; i < 20; i++) expect(transfer(compressible)).toBeLessThan(1000);
  });

  it('wait for authentication under zlib@openssh.com, then compress both ways', () => {
    const { writer: w, reader: r, transfer, rekey } = compressingPair();
    rekey('zlib@openssh.com');
    expect([w.compression, r.compression]).toEqual(['zlib@openssh.com', 'zlib@openssh.com']);
    expect(transfer(compressible)).toBeGreaterThan(compressible.length);
    w.startDelayedCompression();
    r.startDelayedCompression();
    expect(transfer(compressible)).toBeLessThan(1000);
  });

  it('start a fresh stream at each NEWKEYS, and stop when a re-key chooses none', () => {
    const { writer: w, transfer, rekey } = compressingPair();
    rekey('zlib');
    const first = transfer(compressible);
    const repeated = transfer(compressible);
    expect(repeated).toBeLessThan(first);
    // The NEWKEYS itself goes out compressed, then both sides restart their contexts.
    rekey('zlib');
    expect(transfer(compressible)).toBe(first);
    rekey('none');
    expect(w.isCompressing).toBe(false);
    expect(transfer(compressible)).toBeGreaterThan(compressible.length);
  });

  it('restart zlib@openssh.com at once at a NEWKEYS after authentication', () => {
    const { writer: w, reader: r, transfer, rekey } = compressingPair();
    rekey('zlib@openssh.com');
    w.startDelayedCompression();
    r.startDelayedCompression();
    rekey('zlib@openssh.com');
    expect(w.isCompressing && r.isDecompressing).toBe(true);
    expect(transfer(compressible)).toBeLessThan(1000);
  });

  it('leaves a payload from allocatePayload unsealed while compressing (the compressed copy is sealed)', () => {
    const { writer: w, rekey } = compressingPair();
    rekey('zlib');
    const payload = allocatePayload(compressible.length);
    payload.set(compressible);
    const wire = w.write(payload);
    expect(wire.buffer).not.toBe(payload.buffer);
    expect(Buffer.from(payload).equals(Buffer.from(compressible))).toBe(true);
  });

  it('still seals in place when the negotiated compression is none', () => {
    const { writer: w, rekey } = compressingPair();
    rekey('none');
    const payload = allocatePayload(64);
    expect(w.write(payload).buffer).toBe(payload.buffer);
  });

  it('rejects a packet that inflates past the maximum packet length with COMPRESSION_ERROR', () => {
    const { writer: w, reader: r, rekey } = compressingPair(40_000);
    rekey('zlib');
    // The bomb is written as it is, as a peer that does not compress it would send it.
    const sender = compressingPair();
    sender.rekey('zlib@openssh.com');
    r.push(sender.writer.write(new Uint8Array(deflateSync(new Uint8Array(1 << 20)))).slice());
    expect(() => r.next()).toThrow(expect.objectContaining({ reason: 6, message: 'Decompressed payload exceeds the limit of 40000 bytes' }));
    expect(w.isCompressing).toBe(true);
  });
});
