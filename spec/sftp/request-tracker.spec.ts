import { describe, expect, it } from 'vitest';
import { RequestTracker } from '../../lib/sftp/request-tracker.js';

describe('RequestTracker', () => {
  it('hands each response to the request with its id, in any order', async () => {
    const tracker = new RequestTracker<string>();
    const a = tracker.issue();
    const b = tracker.issue();
    expect([a.id, b.id]).toEqual([0, 1]);
    expect(tracker.settle(1, 'for b')).toBe(true);
    expect(tracker.settle(0, 'for a')).toBe(true);
    expect(await a.response).toBe('for a');
    expect(await b.response).toBe('for b');
    expect(tracker.size).toBe(0);
  });

  it('refuses an id nobody waits for, and a second answer to the same id', () => {
    const tracker = new RequestTracker<string>();
    const { id } = tracker.issue();
    expect(tracker.settle(id + 5, 'x')).toBe(false);
    expect(tracker.settle(id, 'x')).toBe(true);
    expect(tracker.settle(id, 'again')).toBe(false);
  });

  it('wraps at 2^32', () => {
    const tracker = new RequestTracker<number>(0xfffffffe);
    expect([tracker.issue().id, tracker.issue().id, tracker.issue().id]).toEqual([0xfffffffe, 0xffffffff, 0]);
    expect(tracker.size).toBe(3);
  });

  it('fails every waiting request and every later one with the same error', async () => {
    const tracker = new RequestTracker<string>();
    const a = tracker.issue();
    const b = tracker.issue();
    const error = new Error('channel gone');
    tracker.failAll(error);
    await expect(a.response).rejects.toBe(error);
    await expect(b.response).rejects.toBe(error);
    expect(() => tracker.issue()).toThrow(error);
    expect(tracker.size).toBe(0);
  });
});
