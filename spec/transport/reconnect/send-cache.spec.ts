import { describe, expect, it } from 'vitest';
import { SendCache } from '../../../lib/transport/reconnect/send-cache.js';
import { encodeEnableReconnect } from '../../../lib/transport/reconnect/messages.js';

const message = (type: number, tag = 0) => new Uint8Array([type, tag]);

describe('SendCache', () => {
  it('drops every message up to the acknowledged sequence and reports the exact one\'s send time', () => {
    const cache = new SendCache(0);
    for (let s = 10; s < 15; s++) cache.add(s, message(94, s), s * 100);
    expect(cache.acknowledge(12)).toBe(1200);
    expect(cache.size).toBe(2);
    expect(cache.acknowledge(12)).toBeUndefined();
    expect(cache.sentMessagesFrom(13)!.map((m) => m[1])).toEqual([13, 14]);
  });

  it('returns only messages from the start sequence, without kex messages and DISCONNECT', () => {
    const cache = new SendCache(0);
    [94, 20, 21, 30, 31, 1, 93, 80].forEach((type, i) => cache.add(i, message(type, i), 0));
    expect(cache.sentMessagesFrom(0)!.map((m) => m[0])).toEqual([94, 93, 80]);
    expect(cache.sentMessagesFrom(7)!.map((m) => m[0])).toEqual([80]);
  });

  it('returns nothing when the peer is up to date', () => {
    const cache = new SendCache(0);
    expect(cache.sentMessagesFrom(0)).toEqual([]);
    cache.add(4, message(94), 0);
    expect(cache.sentMessagesFrom(5)).toEqual([]);
  });

  it('returns null when the peer needs a message older than anything held', () => {
    const cache = new SendCache(0);
    cache.add(10, message(94), 0);
    expect(cache.sentMessagesFrom(9)).toBeNull();
  });

  it('keeps at most maxSize messages; needing an evicted one is a failure (dropped)', () => {
    const cache = new SendCache(3);
    for (let s = 0; s < 5; s++) cache.add(s, message(94, s), 0);
    expect(cache.size).toBe(3);
    expect(cache.hasDropped).toBe(true);
    expect(cache.sentMessagesFrom(1)).toBeNull();
    expect(cache.sentMessagesFrom(2)!.map((m) => m[1])).toEqual([2, 3, 4]);
  });

  it('stays correct across many adds and acknowledgements (compaction)', () => {
    const cache = new SendCache(0);
    for (let s = 0; s < 1000; s++) {
      cache.add(s, message(94, s & 0xff), s);
      if (s % 10 === 9) cache.acknowledge(s - 2);
    }
    expect(cache.size).toBe(2);
    expect(cache.sentMessagesFrom(998)!.map((m) => m[1])).toEqual([998 & 0xff, 999 & 0xff]);
  });

  it('holds the place of an enable-session-reconnect request but never replays it', () => {
    const cache = new SendCache(0);
    cache.add(5, encodeEnableReconnect(), 0);
    cache.add(6, message(94, 6), 0);
    expect(cache.sentMessagesFrom(5)!.map((m) => m[1])).toEqual([6]);
    expect(cache.sentMessagesFrom(4)).toBeNull();
  });
});
