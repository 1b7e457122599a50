import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError } from '../../lib/errors.js';
import { SftpPacketReader } from '../../lib/sftp/packet-reader.js';
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
