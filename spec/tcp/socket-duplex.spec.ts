/**
 * socketToDuplex's writable over a real 127.0.0.1 connection: the chunks of one turn leave in one
 * writev, bulk ones included; a peer that stops reading pushes back once the socket holds the cork
 * limit, and every byte arrives in order once it reads again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { socketToDuplex } from '../../lib/tcp/socket-duplex.js';
import { closeSocketPairs, connectedPair, countWrites, patterned, readAll } from '../helpers/sockets.js';

afterEach(closeSocketPairs);

describe('socketToDuplex writable', () => {
  it('sends the chunks written in one turn in one writev, small and bulk alike, and in order', async () => {
    const { client, peer } = await connectedPair();
    const seen = countWrites(client);
    const writer = socketToDuplex(client).writable.getWriter();
    const chunks = [patterned(100, 1), patterned(32 * 1024 + 20, 2), patterned(32 * 1024 + 20, 3), patterned(37, 4)];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const received = readAll(peer, total);
    await Promise.all(chunks.map((chunk) => writer.write(chunk)));
    expect(Buffer.compare(await received, Buffer.concat(chunks))).toBe(0);
    expect(seen.writes).toBe(0);
    expect(seen.writevChunks).toEqual([4]);
  });

  it('pushes back while the peer does not read, holding at most the cork limit and a chunk, then delivers everything', async () => {
    const { client, peer } = await connectedPair();
    const writer = socketToDuplex(client).writable.getWriter();
    const chunk = 64 * 1024;
    const sent: Uint8Array[] = [];
    let blocked = false;
    let peakHeld = 0;
    // Far more than the kernel's buffers on loopback take: a write must end up waiting.
    for (let i = 0; i < 2000 && !blocked; i++) {
      const data = patterned(chunk, i);
      sent.push(data);
      const write = writer.write(data);
      peakHeld = Math.max(peakHeld, client.writableLength);
      const settled = await Promise.race([write.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 50))]);
      blocked = !settled;
    }
    expect(blocked).toBe(true);
    expect(peakHeld).toBeLessThanOrEqual(256 * 1024 + chunk);
    const total = sent.length * chunk;
    const received = await readAll(peer, total);
    await writer.ready;
    expect(received.length).toBe(total);
    expect(Buffer.compare(received, Buffer.concat(sent))).toBe(0);
  });

  it('rejects a write that waits for the peer when the socket closes', async () => {
    const { client } = await connectedPair();
    const writer = socketToDuplex(client).writable.getWriter();
    let pending: Promise<void> | undefined;
    for (let i = 0; i < 2000 && pending === undefined; i++) {
      const write = writer.write(patterned(64 * 1024, i));
      const settled = await Promise.race([write.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 50))]);
      if (!settled) pending = write;
    }
    expect(pending).toBeDefined();
    const outcome = pending!.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    client.destroy();
    expect(await outcome).toMatch(/closed/i);
  });
});
