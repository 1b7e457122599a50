import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Channel } from '../../lib/mux/channel.js';
import { channelPair, connectionPair, seededRandom, settle, windowConfig, type Link } from './pair.js';



const sum = (link: Link, type: number, at: number): number =>
  link.log.filter((p) => p[0] === type).reduce((n, p) => n + new DataView(p.buffer).getUint32(at), 0);

function randomChunk(random: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4096) out[i] = Math.floor(random() * 256);
  return out;
}

async function pump(channel: Channel, random: () => number, total: number, maxChunk: number): Promise<string> {
  const hash = createHash('sha256');
  const writer = channel.writable.getWriter();
  for (let sent = 0; sent < total; ) {
    const n = Math.min(total - sent, 1 + Math.floor(random() * maxChunk));
    const chunk = randomChunk(random, n);
    hash.update(chunk);
    await writer.write(chunk);
    sent += n;
  }
  await writer.close();
  return hash.digest('hex');
}

async function drain(channel: Channel, onRead?: (n: number) => Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of channel.readable) {
    hash.update(chunk);
    await onRead?.(chunk.length);
  }
  return hash.digest('hex');
}

describe('channel flow control', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('never exceeds the window under random chunks and a slow reader (seed %i)', async (seed) => {
    const random = seededRandom(seed);
    const window = 1024 + Math.floor(random() * 64 * 1024);
    const packet = 256 + Math.floor(random() * Math.min(window, 32 * 1024));
    const p = await channelPair({ server: windowConfig(window, packet), highWaterMark: 1 + Math.floor(random() * 8) });
    let read = 0;
    const total = 200_000 + Math.floor(random() * 100_000);
    const [sent, received] = await Promise.all([
      pump(p.c, random, total, Math.floor(window * 2.5)),
      drain(p.s, async (n) => {
        read += n;
        // Credit granted so far never exceeds what the reader consumed (granted + queued <= window).
        expect(sum(p.toClient, 93, 5)).toBeLessThanOrEqual(read);
        if (random() < 0.3) await settle(1 + Math.floor(random() * 3));
      }),
    ]);
    expect(received).toBe(sent);
    expect(read).toBe(total);
    expect(p.monitor.violations).toEqual([]);
    expect(p.monitor.maxOutstanding).toBeLessThanOrEqual(window);
    expect(p.toServer.errors).toEqual([]);
  });

  it('keeps SHA-256 integrity for 4 MiB each way on one channel', async () => {
    const p = await channelPair();
    const random = seededRandom(99);
    const results = await Promise.all([
      pump(p.c, random, 4 << 20, 100_000),
      pump(p.s, random, 4 << 20, 7_000),
      drain(p.s),
      drain(p.c),
    ]);
    expect(results[2]).toBe(results[0]);
    expect(results[3]).toBe(results[1]);
    expect(p.monitor.violations).toEqual([]);
  });

  it('coalesces small writes while a packet is in flight', async () => {
    const p = await channelPair({ highWaterMark: 1 });
    const writer = p.c.writable.getWriter();
    const writes = [];
    for (let i = 0; i < 1000; i++) writes.push(writer.write(new Uint8Array(10).fill(i & 0xff)));
    await Promise.all(writes);
    await writer.close();
    const data = p.toServer.log.filter((m) => m[0] === 94);
    expect(sum(p.toServer, 94, 5)).toBe(10_000);
    expect(data.length).toBeLessThan(50);
  });

  it('does not let a stalled reader on one channel stall another channel or global requests', async () => {
    const p = connectionPair({ server: windowConfig(8192, 4096) });
    const [stalledClient, stalledServer] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    const stalledWriter = stalledClient.writable.getWriter();
    let stalledDone = false;
    const stalled = stalledWriter.write(new Uint8Array(1 << 20)).then(() => (stalledDone = true));
    await settle();
    const [c, s] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    p.server.onRequest = () => true;
    const [sent, received, ok] = await Promise.all([
      pump(c, seededRandom(5), 1 << 20, 50_000),
      drain(s),
      p.client.request({ requestType: 'ping@example.com', wantReply: true }),
    ]);
    expect(received).toBe(sent);
    expect(ok).toBe(true);
    expect(stalledDone).toBe(false);
    void drain(stalledServer);
    await stalled;
  });
});
