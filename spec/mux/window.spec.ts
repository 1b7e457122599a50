import { describe, expect, it } from 'vitest';
import { ChannelClosedError, ProtocolError } from '../../lib/errors.js';
import { InboundWindow, OutboundWindow } from '../../lib/mux/window.js';

describe('InboundWindow', () => {
  it('grants nothing on arrival and half the window once it has been consumed', () => {
    const w = new InboundWindow(1000);
    w.consume(600, 1);
    expect(w.credit(600)).toBe(0); // arrived but still queued
    expect(w.credit(200)).toBe(0); // 400 consumed: below the threshold
    expect(w.credit(100)).toBe(500); // 500 consumed
    expect(w.granted).toBe(900);
    expect(w.granted + 100).toBeLessThanOrEqual(w.maxWindow);
  });

  it('throws ProtocolError naming the excess and the channel when data exceeds the credit', () => {
    const w = new InboundWindow(100);
    w.consume(60, 4);
    expect(() => w.consume(50, 4)).toThrow(ProtocolError);
    expect(() => w.consume(50, 4)).toThrow('Peer exceeded window by 10 bytes on channel 4');
  });
});

describe('OutboundWindow', () => {
  it('hands out credit bounded by the window and the max packet', () => {
    const w = new OutboundWindow(5000, 2000);
    expect([w.take(3000), w.take(3000), w.take(3000), w.take(3000)]).toEqual([2000, 2000, 1000, 0]);
  });

  it('parks ready() at zero until a window adjust arrives', async () => {
    const w = new OutboundWindow(0, 10);
    let ready = false;
    const waiting = w.ready().then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    w.add(5, 1);
    await waiting;
    expect(w.take(100)).toBe(5);
  });

  it('rejects an adjust that overflows 2^32-1', () => {
    const w = new OutboundWindow(0xfffffff0, 10);
    expect(() => w.add(0x10, 2)).toThrow(ProtocolError);
  });

  it('rejects waiters and later calls with the failure', async () => {
    const w = new OutboundWindow(0, 10);
    const waiting = w.ready();
    w.fail();
    await expect(waiting).rejects.toBeInstanceOf(ChannelClosedError);
    const error = new Error('session ended');
    const other = new OutboundWindow(0, 10);
    other.fail(error);
    await expect(other.ready()).rejects.toBe(error);
  });
});
