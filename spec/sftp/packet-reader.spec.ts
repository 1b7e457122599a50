import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError } from '../../lib/errors.js';
import { joinPayload, SftpPacketReader, SPLIT_HEAD, type SftpPayload } from '../../lib/sftp/packet-reader.js';
import { concatBytes } from '../helpers/pipes.js';

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

describe('SftpPacketReader', () => {
  it('returns every payload whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = concatBytes(payloads.map(frame));
          const reader = new SftpPacketReader(1024);
          const out: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            out.push(...reader.push(stream.subarray(at, at + size)).map((p) => p.slice()));
            at += size;
          }
          reader.assertDrained();
          expect(out).toEqual(payloads);
        },
      ),
    );
  });

  it('hands large bulk payloads on in pieces that join to the payload, whatever the chunk boundaries', () => {
    const bulk = 103;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 300 }),
            fc.integer({ min: 8 * 1024, max: 24 * 1024 }).map((n) => {
              const payload = new Uint8Array(n).fill(n & 0xff);
              payload[0] = bulk;
              return payload;
            }),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = concatBytes(payloads.map(frame));
          const reader = new SftpPacketReader<SftpPayload>(64 * 1024, { splitType: bulk });
          const out: SftpPayload[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            out.push(...reader.push(stream.subarray(at, at + size)));
            at += size;
          }
          reader.assertDrained();
          expect(out.length).toBe(payloads.length);
          out.forEach((p, i) => expect(Buffer.compare(joinPayload(p), payloads[i]!)).toBe(0));
          for (const p of out) {
            if (p instanceof Uint8Array) continue;
            expect(p.head[0]).toBe(bulk);
            expect(p.head.length).toBeGreaterThanOrEqual(SPLIT_HEAD);
            expect(p.length).toBe(p.head.length + p.rest.reduce((n, r) => n + r.length, 0));
            // The bulk bytes are views of the pushed stream, not copies.
            for (const piece of p.rest) expect(piece.buffer).toBe(stream.buffer);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('joins small payloads of the bulk type and every payload of other types', () => {
    const reader = new SftpPacketReader<SftpPayload>(64 * 1024, { splitType: 103 });
    const big = frame(Uint8Array.from({ length: 20_000 }, (_, i) => (i === 0 ? 104 : i)));
    const small = frame(Uint8Array.from({ length: 100 }, (_, i) => (i === 0 ? 103 : i)));
    const stream = concatBytes([big, small]);
    const out = [...reader.push(stream.subarray(0, 10_000)), ...reader.push(stream.subarray(10_000, 20_050)), ...reader.push(stream.subarray(20_050))];
    expect(out.every((p) => p instanceof Uint8Array)).toBe(true);
    expect(out.map((p) => (p as Uint8Array).length)).toEqual([20_000, 100]);
  });

  it('returns a payload inside one chunk as a view, without copying', () => {
    const chunk = frame(new Uint8Array([101, 0, 0, 0, 1]));
    const [payload] = new SftpPacketReader(64).push(chunk);
    expect(payload!.buffer).toBe(chunk.buffer);
  });

  it('refuses a huge length before buffering anything', () => {
    const reader = new SftpPacketReader(256 * 1024);
    expect(() => reader.push(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1]))).toThrow(ProtocolError);
    expect(() => new SftpPacketReader(64).push(new Uint8Array([0, 0, 0, 65]))).toThrow(/length 65 .* outside 1\.\.64/);
    expect(() => new SftpPacketReader(64).push(new Uint8Array([0, 0, 0, 0]))).toThrow(/length 0/);
  });

  it('refuses a stream that ends inside a packet', () => {
    const reader = new SftpPacketReader(64);
    reader.push(new Uint8Array([0, 0, 0, 10, 1, 2]));
    expect(reader.buffered).toBe(6);
    expect(() => reader.assertDrained()).toThrow(/ended inside a packet \(6 bytes/);
  });
});
