import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PacketReader, createPacketReaderStream } from '../../lib/transport/packet-reader.js';
import { PacketWriter, createPacketWriterStream } from '../../lib/transport/packet-writer.js';
import { createPacketProtection } from '../../lib/cipher/registry.js';
import { ProtocolError } from '../../lib/errors.js';
import { everySplit, randomSplits, streamOfChunks } from '../helpers/chunking.js';
import { concatBytes, readAll } from '../helpers/pipes.js';

const keys = (n: number) => ({
  iv: new Uint8Array(16).fill(n),
  encryptionKey: new Uint8Array(64).fill(n + 1),
  integrityKey: new Uint8Array(64).fill(n + 2),
});

function pair(cipher: string, mac: string) {
  const none = { cipher: 'none', mac: 'none', keys: keys(0) };
  const writer = new PacketWriter({ sealing: createPacketProtection({ ...none, direction: 'sealing' }), randomBytes });
  const reader = new PacketReader({ opening: createPacketProtection({ ...none, direction: 'opening' }), maxPacketLength: 40000 });
  writer.prepareKeys(createPacketProtection({ cipher, mac, keys: keys(5), direction: 'sealing' }), { resetSequence: true });
  reader.prepareKeys(createPacketProtection({ cipher, mac, keys: keys(5), direction: 'opening' }), { resetSequence: true });
  return { writer, reader };
}

const payloads = [new Uint8Array([20, 1, 2, 3]), new Uint8Array([21]), new Uint8Array([94, ...new Uint8Array(100).fill(7)]), new Uint8Array([2, 0, 0, 0, 0])];

function readAllPayloads(reader: PacketReader, chunks: Uint8Array[]): number[][] {
  const out: number[][] = [];
  for (const c of chunks) {
    reader.push(c);
    let p;
    while ((p = reader.next()) !== undefined) out.push([...p]);
  }
  return out;
}

describe('PacketReader', () => {
  it.each([
    ['aes256-gcm@openssh.com', 'none'],
    ['chacha20-poly1305@openssh.com', 'none'],
    ['aes128-ctr', 'hmac-sha2-256'],
    ['aes256-cbc', 'hmac-sha2-512-etm@openssh.com'],
  ])('yields the same packets across NEWKEYS at every chunk boundary (%s, %s)', (cipher, mac) => {
    const { writer } = pair(cipher, mac);
    const wire = concatBytes(payloads.map((p) => writer.write(p)));
    const expected = payloads.map((p) => [...p]);
    for (const chunks of everySplit(wire)) {
      const { reader } = pair(cipher, mac);
      expect(readAllPayloads(reader, chunks)).toEqual(expected);
      expect(reader.buffered).toBe(0);
    }
    for (const chunks of randomSplits(wire, cipher, 50, { includeEmpty: true })) {
      const { reader } = pair(cipher, mac);
      expect(readAllPayloads(reader, chunks)).toEqual(expected);
    }
  });

  it.each([
    ['none', 'none'],
    ['aes256-gcm@openssh.com', 'none'],
    ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'],
  ])('keeps every payload intact while later split packets are joined (%s, %s)', (cipher, mac) => {
    const { writer } = pair(cipher, mac);
    const sent = Array.from({ length: 12 }, (_, i) => new Uint8Array(3000 + i * 100).fill(i + 1));
    const wire = concatBytes([payloads[1]!, ...sent].map((p) => writer.write(p)));
    const { reader } = pair(cipher, mac);
    const received: Uint8Array[] = [];
    for (let at = 0; at < wire.length; at += 1000) {
      reader.push(wire.slice(at, at + 1000));
      let p;
      while ((p = reader.next()) !== undefined) received.push(p);
    }
    expect(received.slice(1).map((p) => Buffer.from(p).toString('hex'))).toEqual(sent.map((p) => Buffer.from(p).toString('hex')));
  });

  it('rejects a bad MAC, a length over the cap, bad padding and a truncated stream', () => {
    const { writer } = pair('aes256-gcm@openssh.com', 'none');
    const wire = concatBytes(payloads.map((p) => writer.write(p)));
    const flipped = wire.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(() => readAllPayloads(pair('aes256-gcm@openssh.com', 'none').reader, [flipped])).toThrow(ProtocolError);

    const reader = new PacketReader({ opening: createPacketProtection({ cipher: 'none', mac: 'none', keys: keys(0), direction: 'opening' }), maxPacketLength: 35000 });
    expect(() => readAllPayloads(reader, [new Uint8Array([0, 1, 0, 4, 4])])).toThrow(/Packet length 65540 out of range/);

    const badPadding = new Uint8Array([0, 0, 0, 12, 2, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(() => readAllPayloads(new PacketReader({ opening: createPacketProtection({ cipher: 'none', mac: 'none', keys: keys(0), direction: 'opening' }), maxPacketLength: 35000 }), [badPadding])).toThrow(/Invalid padding length 2/);

    const r2 = new PacketReader({ opening: createPacketProtection({ cipher: 'none', mac: 'none', keys: keys(0), direction: 'opening' }), maxPacketLength: 35000 });
    r2.push(new Uint8Array([0, 0, 0, 12, 4]));
    expect(r2.next()).toBeUndefined();
    expect(() => r2.assertDrained()).toThrow(/inside a packet/);
  });

  it('refuses a maximum below the RFC minimum of 35000', () => {
    expect(() => new PacketReader({ opening: createPacketProtection({ cipher: 'none', mac: 'none', keys: keys(0), direction: 'opening' }), maxPacketLength: 1000 })).toThrow(RangeError);
  });

  it('accepts 35000-byte packets', () => {
    const { writer, reader } = pair('aes128-gcm@openssh.com', 'none');
    const big = new Uint8Array(34900).fill(3);
    big[0] = 94;
    const got = readAllPayloads(reader, [writer.write(new Uint8Array([21])), writer.write(big)]);
    expect(got[1]!.length).toBe(34900);
  });

  it('waits at a NEWKEYS until keys are prepared, as a stream', async () => {
    const none = { cipher: 'none', mac: 'none', keys: keys(0) };
    const writer = new PacketWriter({ sealing: createPacketProtection({ ...none, direction: 'sealing' }), randomBytes });
    writer.prepareKeys(createPacketProtection({ cipher: 'aes256-ctr', mac: 'hmac-sha2-256', keys: keys(9), direction: 'sealing' }));
    const wire = concatBytes([writer.write(new Uint8Array([31, 1])), writer.write(new Uint8Array([21])), writer.write(new Uint8Array([94, 5]))]);
    const reader = new PacketReader({ opening: createPacketProtection({ ...none, direction: 'opening' }), maxPacketLength: 35000 });
    const out = streamOfChunks([wire]).pipeThrough(createPacketReaderStream(reader));
    const seen: number[][] = [];
    await out.pipeTo(
      new WritableStream({
        write(p) {
          seen.push([...p]);
          if (p[0] === 31) reader.prepareKeys(createPacketProtection({ cipher: 'aes256-ctr', mac: 'hmac-sha2-256', keys: keys(9), direction: 'opening' }));
        },
      }),
    );
    expect(seen).toEqual([[31, 1], [21], [94, 5]]);
  });

  it('round-trips through the writer stream', async () => {
    const none = { cipher: 'none', mac: 'none', keys: keys(0) };
    const writer = new PacketWriter({ sealing: createPacketProtection({ ...none, direction: 'sealing' }), randomBytes });
    const bytes = await readAll(streamOfChunks([new Uint8Array([5, 1]), new Uint8Array([6, 2])]).pipeThrough(createPacketWriterStream(writer)));
    const reader = new PacketReader({ opening: createPacketProtection({ ...none, direction: 'opening' }), maxPacketLength: 35000 });
    expect(readAllPayloads(reader, [bytes])).toEqual([[5, 1], [6, 2]]);
  });
});
