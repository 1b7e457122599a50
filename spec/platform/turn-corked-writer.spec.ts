/**
 * TurnCorkedWriter over a real 127.0.0.1 connection: a turn's writes leave in one writev and the
 * next turn's in another; past the cork limit a turn's writes go at once and the writer is told to
 * wait for 'drain'; every byte arrives in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CORK_LIMIT, TurnCorkedWriter } from '../../lib/platform/turn-corked-writer.js';
import { closeSocketPairs, connectedPair, countWrites, patterned, readAll } from '../helpers/sockets.js';

afterEach(closeSocketPairs);

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnCorkedWriter', () => {
  it('sends each turn of writes in one writev, in order', async () => {
    const { client, peer } = await connectedPair();
    const seen = countWrites(client);
    const writes = new TurnCorkedWriter(client);
    const first = [patterned(32 * 1024 + 9, 1), patterned(32 * 1024 + 9, 2), patterned(5, 3)];
    const second = [patterned(700, 4), patterned(32 * 1024, 5)];
    const all = [...first, ...second];
    const received = readAll(peer, all.reduce((n, c) => n + c.length, 0));
    for (const chunk of first) expect(writes.write(chunk)).toBe(true);
    // Nothing has left yet: the turn is still open.
    expect(client.writableLength).toBe(first.reduce((n, c) => n + c.length, 0));
    await nextTurn();
    for (const chunk of second) expect(writes.write(chunk)).toBe(true);
    expect(Buffer.compare(await received, Buffer.concat(all))).toBe(0);
    expect(seen.writes).toBe(0);
    expect(seen.writevChunks).toEqual([3, 2]);
  });

  it('lets a turn go at the cork limit and asks for drain while the peer does not read', async () => {
    const { client, peer } = await connectedPair();
    const writes = new TurnCorkedWriter(client);
    const sent: Uint8Array[] = [];
    let accepted = true;
    let heldCorked = 0;
    for (let turn = 0; accepted && turn < 200; turn++) {
      for (let i = 0; accepted && i < 8; i++) {
        const chunk = patterned(64 * 1024, turn * 8 + i);
        sent.push(chunk);
        accepted = writes.write(chunk);
        if (client.writableCorked > 0) heldCorked = Math.max(heldCorked, client.writableLength);
      }
      await nextTurn();
    }
    // The kernel's buffers filled, so the writer was told to wait; corked, it never held the limit.
    expect(accepted).toBe(false);
    expect(client.writableCorked).toBe(0);
    expect(heldCorked).toBeLessThan(CORK_LIMIT);
    const drained = new Promise<void>((resolve) => client.once('drain', () => resolve()));
    const total = sent.reduce((n, c) => n + c.length, 0);
    const received = await readAll(peer, total);
    await drained;
    expect(Buffer.compare(received, Buffer.concat(sent))).toBe(0);
  });
});
