import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { KeepAlive } from '../../lib/mux/keepalive.js';
import { connectionPair, settle } from './pair.js';

describe('KeepAlive', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
  afterEach(() => void vi.useRealTimers());

  function probe(countMax: number) {
    const replies: Array<() => void> = [];
    let failed = 0;
    const keepAlive = new KeepAlive({
      intervalSeconds: 10,
      countMax,
      send: () => new Promise<void>((resolve) => replies.push(resolve)),
      onFailed: () => failed++,
    });
    return { keepAlive, replies, failed: () => failed };
  }

  it('probes only when the link was idle for a whole interval', () => {
    const k = probe(3);
    k.keepAlive.activity();
    vi.advanceTimersByTime(10_000);
    expect(k.replies).toHaveLength(0);
    vi.advanceTimersByTime(10_000);
    expect(k.replies).toHaveLength(1);
    k.keepAlive.dispose();
  });

  it('declares the peer dead after countMax unanswered probes, once', () => {
    const k = probe(3);
    vi.advanceTimersByTime(30_000);
    expect(k.replies).toHaveLength(3);
    expect(k.failed()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(k.failed()).toBe(1);
    expect(k.replies).toHaveLength(3);
  });

  it('resets the count when a probe is answered', async () => {
    const k = probe(2);
    vi.advanceTimersByTime(20_000);
    k.replies[1]!();
    await Promise.resolve();
    vi.advanceTimersByTime(20_000);
    expect(k.failed()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(k.failed()).toBe(1);
  });

  it('stops probing after dispose', () => {
    const k = probe(1);
    k.keepAlive.dispose();
    vi.advanceTimersByTime(100_000);
    expect(k.replies).toHaveLength(0);
    expect(k.failed()).toBe(0);
  });
});

describe('Connection keepalive', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
  afterEach(() => void vi.useRealTimers());

  it('keeps a live peer alive and detects a dead one', async () => {
    const client = SessionConfig.default();
    client.keepAliveInterval = 5;
    client.keepAliveCountMax = 2;
    const p = connectionPair({ client });
    let dead = 0;
    p.client.onKeepAliveFailed = () => dead++;
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(5_000);
      await settle();
    }
    const probes = p.toServer.log.filter((m) => m[0] === 80).length;
    expect(probes).toBeGreaterThan(0);
    expect(dead).toBe(0);
    p.toClient.paused = true; // the peer stops answering
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(5_000);
      await settle();
    }
    expect(dead).toBe(1);
    p.client.dispose();
  });
});
