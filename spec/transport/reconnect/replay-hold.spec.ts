import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { releaseAfterPeerReplay } from '../../../lib/transport/reconnect/replay-hold.js';

describe('releaseAfterPeerReplay', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('waits for packets to start, then releases once they stopped for the quiet period', () => {
    let packets = 10;
    const release = vi.fn();
    releaseAfterPeerReplay(() => packets, release, { quietMs: 15, maxMs: 300 });
    vi.advanceTimersByTime(100);
    expect(release).not.toHaveBeenCalled();
    for (let i = 0; i < 10; i++) {
      packets += 3;
      vi.advanceTimersByTime(5);
    }
    expect(release).not.toHaveBeenCalled();
    vi.advanceTimersByTime(20);
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('releases after the upper bound when nothing arrives or packets never stop', () => {
    const idle = vi.fn();
    releaseAfterPeerReplay(() => 0, idle, { quietMs: 15, maxMs: 300 });
    let packets = 0;
    const busy = vi.fn();
    releaseAfterPeerReplay(() => (packets += 1), busy, { quietMs: 15, maxMs: 300 });
    vi.advanceTimersByTime(295);
    expect([idle.mock.calls.length, busy.mock.calls.length]).toEqual([0, 0]);
    vi.advanceTimersByTime(10);
    expect([idle.mock.calls.length, busy.mock.calls.length]).toEqual([1, 1]);
  });
});
