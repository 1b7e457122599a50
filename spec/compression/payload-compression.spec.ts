import { describe, expect, it } from 'vitest';
import { constants, deflateSync, inflateSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { PayloadCompressor, PayloadDecompressor } from '../../lib/compression/payload-compression.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';

const MAX_PAYLOAD = 256 * 1024 + 1024;

/** Text-like payloads: compressible, different from packet to packet. */
function textPayload(index: number, size: number): Uint8Array {
  const line = `packet ${index}: the quick brown fox jumps over the lazy dog ${index % 7}\n`;
  return new Uint8Array(Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size)));
}

function concat(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

function compressionErrorOf(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).reason).toBe(DisconnectReason.compressionError);
    return error as ProtocolError;
  }
  throw new Error('Expected a ProtocolError');
}

describe('PayloadCompressor and PayloadDecompressor', () => {
  it('round-trip hundreds of packets of every size through one continuous stream each way', () => {
    const compressor = new PayloadCompressor();
    const decompressor = new PayloadDecompressor(MAX_PAYLOAD);
    const sizes = [1, 2, 9, 100, 1000, 4096, 32768, 65536 + 9, 256 * 1024];
    for (let i = 0; i < 300; i++) {
      const payload = i % 3 === 0 ? new Uint8Array(randomBytes(sizes[i % sizes.length]!)) : textPayload(i, sizes[i % sizes.length]!);
      const compressed = compressor.compress(payload).slice();
      const inflated = decompressor.decompress(compressed);
      expect(inflated.length).toBe(payload.length);
      expect(Buffer.from(inflated).equals(Buffer.from(payload))).toBe(true);
    }
    compressor.destroy();
    decompressor.destroy();
  });

  it('carries the dictionary across packets: a repeated payload costs a few bytes the second time', () => {
    const compressor = new PayloadCompressor();
    const payload = new Uint8Array(randomBytes(2000));
    const first = compressor.compress(payload).length;
    const second = compressor.compress(payload).length;
    expect(first).toBeGreaterThan(2000);
    expect(second).toBeLessThan(40);
    compressor.destroy();
  });

  it('ends every packet at a flush point a standard inflater reads without holding bytes back', () => {
    const compressor = new PayloadCompressor();
    const payloads: Uint8Array[] = [];
    const packets: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      payloads.push(textPayload(i, 10 + i * 37));
      packets.push(compressor.compress(payloads[i]!).slice());
      // Each prefix of packets inflates to exactly the payloads so far: nothing waits for later data.
      const inflated = inflateSync(concat(packets), { finishFlush: constants.Z_SYNC_FLUSH });
      expect(inflated.equals(concat(payloads))).toBe(true);
    }
    compressor.destroy();
  });

  it('ends each packet with a partial flush (an empty fixed block), not a sync flush marker', () => {
    const compressor = new PayloadCompressor();
    const packet = Buffer.from(compressor.compress(textPayload(1, 500)));
    // Z_SYNC_FLUSH would end with an empty stored block: 00 00 ff ff.
    expect(packet.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(false);
    compressor.destroy();
  });

  it.each([
    ['partial', constants.Z_PARTIAL_FLUSH],
    ['sync', constants.Z_SYNC_FLUSH],
  ])('inflates data a standard deflater ended with a %s flush', (_name, finishFlush) => {
    const payload = textPayload(3, 5000);
    const decompressor = new PayloadDecompressor(MAX_PAYLOAD);
    const inflated = decompressor.decompress(new Uint8Array(deflateSync(payload, { finishFlush })));
    expect(Buffer.from(inflated).equals(Buffer.from(payload))).toBe(true);
    decompressor.destroy();
  });

  it('hands out each inflated payload in a buffer of its own', () => {
    const compressor = new PayloadCompressor();
    const decompressor = new PayloadDecompressor(MAX_PAYLOAD);
    const a = decompressor.decompress(compressor.compress(textPayload(1, 100)).slice());
    const copy = Buffer.from(a);
    decompressor.decompress(compressor.compress(textPayload(2, 100)).slice());
    expect(Buffer.from(a).equals(copy)).toBe(true);
    expect(a.byteLength).toBe(a.buffer.byteLength);
  });

  it('rejects a decompression bomb beyond the maximum payload length', () => {
    const bomb = new Uint8Array(deflateSync(new Uint8Array(8 * 1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH }));
    expect(bomb.length).toBeLessThan(10_000);
    const decompressor = new PayloadDecompressor(MAX_PAYLOAD);
    const error = compressionErrorOf(() => decompressor.decompress(bomb));
    expect(error.message).toBe(`Decompressed payload exceeds the limit of ${MAX_PAYLOAD} bytes`);
  });

  it('accepts a payload of exactly the maximum length and refuses one byte more', () => {
    const limit = 40_000;
    const exact = new Uint8Array(deflateSync(new Uint8Array(limit), { finishFlush: constants.Z_SYNC_FLUSH }));
    expect(new PayloadDecompressor(limit).decompress(exact).length).toBe(limit);
    const over = new Uint8Array(deflateSync(new Uint8Array(limit + 1), { finishFlush: constants.Z_SYNC_FLUSH }));
    compressionErrorOf(() => new PayloadDecompressor(limit).decompress(over));
  });

  it('rejects corrupt data, and every packet after it, without an error event or a crash', async () => {
    const decompressor = new PayloadDecompressor(MAX_PAYLOAD);
    const error = compressionErrorOf(() => decompressor.decompress(new Uint8Array([0x78, 0x9c, 0xff, 0xff, 0xff, 0x00])));
    expect(error.message).toMatch(/^Corrupt compressed data: .+ \(Z_DATA_ERROR\)$/);
    compressionErrorOf(() => decompressor.decompress(new Uint8Array(deflateSync(textPayload(1, 10)))));
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('rejects a bad zlib header and random bytes', () => {
    for (let i = 0; i < 20; i++) {
      const garbage = new Uint8Array(randomBytes(64));
      garbage[0] = 0x00;
      compressionErrorOf(() => new PayloadDecompressor(MAX_PAYLOAD).decompress(garbage));
    }
  });

  it('rejects a packet that inflates to nothing', () => {
    const decompressor = new PayloadDecompressor(MAX_PAYLOAD);
    const error = compressionErrorOf(() => decompressor.decompress(new Uint8Array([0x78, 0x9c])));
    expect(error.message).toBe('Compressed payload of 2 bytes inflated to nothing');
  });

  it('rejects data after the end of the zlib stream', () => {
    const finished = Buffer.concat([deflateSync(textPayload(1, 100)), Buffer.from([1, 2, 3])]);
    const error = compressionErrorOf(() => new PayloadDecompressor(MAX_PAYLOAD).decompress(new Uint8Array(finished)));
    expect(error.message).toBe('3 compressed bytes follow the end of the zlib stream');
  });

  it('refuses to work once destroyed', () => {
    const compressor = new PayloadCompressor();
    compressor.destroy();
    compressionErrorOf(() => compressor.compress(textPayload(1, 10)));
  });
});
