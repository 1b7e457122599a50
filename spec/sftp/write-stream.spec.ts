/**
 * The upload stream's WRITE cutting (lib/sftp/write-stream.ts): WRITEs fill whole channel packets,
 * small writes are gathered, bytes set aside go out once the producer pauses, and whatever the
 * chunk sizes the file arrives byte-exact. Real client and server over an in-memory session pair.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNEL_PACKET, writeHeaderLength } from '../../lib/sftp/client-link.js';
import { sftpPair, type SftpPair } from './sftp-pair.js';

let pair: SftpPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/** Records the packet size (header, lead and data) of every WRITE the client sends. */
function recordWrites(p: SftpPair): number[] {
  const sizes: number[] = [];
  const link = p.sftp.link;
  const write = link.write.bind(link);
  link.write = (handle, offset, data, lead) => {
    sizes.push(writeHeaderLength(handle) + data.length + (lead?.length ?? 0));
    return write(handle, offset, data, lead);
  };
  return sizes;
}

function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return bytes;
}

describe('SFTP write stream', () => {
  it('gathers 2000 small writes into WRITEs that fill whole channel packets', async () => {
    pair = await sftpPair();
    const sizes = recordWrites(pair);
    const content = pattern(200_000, 1);
    const writer = pair.sftp.createWriteStream('/small').getWriter();
    for (let at = 0; at < content.length; at += 100) await writer.write(content.subarray(at, at + 100));
    await writer.close();
    expect(readFileSync(join(pair.root, 'small')).equals(content)).toBe(true);
    // Every WRITE but the one sent at close is a whole number of packets.
    expect(sizes.length).toBeLessThanOrEqual(Math.ceil(content.length / (CHANNEL_PACKET - 64)) + 1);
    for (const size of sizes.slice(0, -1)) expect(size % CHANNEL_PACKET).toBe(0);
  });

  it('cuts 256 KiB and 64 KiB chunks into WRITEs of whole packets', async () => {
    pair = await sftpPair();
    const sizes = recordWrites(pair);
    for (const [name, chunk] of [['q', 256 * 1024], ['s', 64 * 1024]] as const) {
      sizes.length = 0;
      const content = pattern(4 * 1024 * 1024, chunk);
      let at = 0;
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= content.length) return controller.close();
          controller.enqueue(content.subarray(at, (at += chunk)));
        },
      });
      await source.pipeTo(pair.sftp.createWriteStream(`/${name}`));
      expect(readFileSync(join(pair.root, name)).equals(content)).toBe(true);
      const packets = sizes.reduce((n, size) => n + Math.ceil(size / CHANNEL_PACKET), 0);
      // The least any cut could take, plus the last WRITE's partial packet.
      expect(packets).toBeLessThanOrEqual(Math.ceil((content.length + sizes.length * 64) / CHANNEL_PACKET) + 1);
      expect(sizes.filter((size) => size % CHANNEL_PACKET !== 0).length).toBeLessThanOrEqual(1);
    }
  });

  it('sends the bytes set aside once the producer pauses, before close', async () => {
    pair = await sftpPair();
    const writer = pair.sftp.createWriteStream('/paused').getWriter();
    await writer.write(pattern(100, 2));
    const file = join(pair.root, 'paused');
    for (let tries = 0; tries < 500 && (statSync(file, { throwIfNoEntry: false })?.size ?? 0) < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(statSync(file).size).toBe(100);
    await writer.write(pattern(50_000, 3));
    await writer.close();
    expect(readFileSync(file).equals(Buffer.concat([pattern(100, 2), pattern(50_000, 3)]))).toBe(true);
  });

  it('uploads byte-exact whatever the chunk sizes, pauses and write sizes, the producer reusing its buffer (fast-check)', async () => {
    pair = await sftpPair();
    const p = pair;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ length: fc.integer({ min: 0, max: 120_000 }), pause: fc.boolean() }), { maxLength: 12 }),
        fc.constantFrom(undefined, 4096, 40_000),
        async (chunks, chunkSize) => {
          const name = `p${run++}`;
          const parts = chunks.map((c, i) => pattern(c.length, i + run));
          const writer = p.sftp.createWriteStream(`/${name}`, chunkSize === undefined ? {} : { chunkSize }).getWriter();
          // One buffer for every write, scribbled over as soon as write() resolves: the stream
          // must have copied (or sent) the bytes by then.
          const scratch = new Uint8Array(120_000);
          for (const [i, part] of parts.entries()) {
            scratch.set(part);
            await writer.write(scratch.subarray(0, part.length));
            scratch.fill(0xee);
            if (chunks[i]!.pause) await new Promise((resolve) => setTimeout(resolve, 2));
          }
          await writer.close();
          expect(readFileSync(join(p.root, name)).equals(Buffer.concat(parts))).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});
