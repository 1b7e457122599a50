/**
 * Small packets sealed in one turn leave as one chunk of the byte stream (one stream write, one
 * socket write); a large packet lets the waiting ones go first, and whatever waits when the
 * session closes (its DISCONNECT) still goes out.
 */
import { describe, expect, it } from 'vitest';
import { DisconnectReason } from '../../lib/errors.js';
import { duplexPair, flushAsyncEvents, readAll } from '../helpers/pipes.js';
import { sessionPair } from '../helpers/pairs.js';

describe('outbound batching of small packets', () => {
  it('sends 200 channel opens of one turn in a handful of chunks, and every channel opens', async () => {
    const link = duplexPair();
    const { client, server } = await sessionPair({ link });
    try {
      await flushAsyncEvents(4);
      const chunksBefore = link.stats.aToB.chunks;
      const opened = Promise.all(Array.from({ length: 200 }, () => client.openChannel()));
      const accepted = Promise.all(Array.from({ length: 200 }, () => server.acceptChannel()));
      const [channels] = await Promise.all([opened, accepted]);
      expect(channels).toHaveLength(200);
      expect(new Set(channels.map((c) => c.channelId)).size).toBe(200);
      // One chunk for the burst of CHANNEL_OPENs (a stray window adjust or keepalive may add one).
      expect(link.stats.aToB.chunks - chunksBefore).toBeLessThanOrEqual(3);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('keeps the order of small messages around a large data packet written in the same turn', async () => {
    const { client, server } = await sessionPair();
    try {
      const [c, s] = await Promise.all([client.openChannel(), server.acceptChannel()]);
      const writer = c.writable.getWriter();
      const big = new Uint8Array(40 * 1024).map((_, i) => i % 251);
      // Small, large, small in one turn: the large packet must not overtake the first small one.
      const writes = [writer.write(new Uint8Array([1, 2, 3])), writer.write(big), writer.write(new Uint8Array([4, 5]))];
      const sent = Promise.all(writes).then(() => writer.close());
      const received = await readAll(s.readable);
      await sent;
      expect(received.length).toBe(3 + big.length + 2);
      expect([...received.subarray(0, 3)]).toEqual([1, 2, 3]);
      expect(received.subarray(3, 3 + big.length)).toEqual(big);
      expect([...received.subarray(3 + big.length)]).toEqual([4, 5]);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('still delivers the DISCONNECT sealed in the turn the session closes', async () => {
    const { client, server } = await sessionPair();
    await client.close(DisconnectReason.byApplication, 'batched goodbye');
    expect(await server.closed).toMatchObject({ reason: DisconnectReason.byApplication, description: 'batched goodbye', initiatedBy: 'remote' });
  });
});
