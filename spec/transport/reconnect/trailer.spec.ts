import { describe, expect, it } from 'vitest';
import { appendTrailer, splitTrailer } from '../../../lib/transport/reconnect/trailer.js';
import { ProtocolError } from '../../../lib/errors.js';

describe('reconnect trailer', () => {
  it('appends uint64 last received sequence, big-endian, after the payload', () => {
    const out = appendTrailer(new Uint8Array([94, 1, 2]), 0x0102030405);
    expect([...out]).toEqual([94, 1, 2, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05]);
  });

  it('appends uint32 microseconds after the sequence with latency, clamped to 0xFFFFFFFF', () => {
    expect([...appendTrailer(new Uint8Array([2]), 7, 1234.4)]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0x04, 0xd2]);
    expect([...appendTrailer(new Uint8Array([2]), 7, 1e12).subarray(9)]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });

  it('leaves the original payload untouched (the send cache keeps it)', () => {
    const payload = new Uint8Array([94, 9, 9]);
    const out = appendTrailer(payload, 3);
    out.fill(0);
    expect([...payload]).toEqual([94, 9, 9]);
  });

  it.each([
    [false, 8],
    [true, 12],
  ])('splits what it appended (latency %s: %i bytes)', (latency, extra) => {
    const wire = appendTrailer(new Uint8Array([80, 1, 2, 3]), 2 ** 40 + 5, latency ? 999 : undefined);
    expect(wire.length).toBe(4 + extra);
    const { message, trailer } = splitTrailer(wire, latency);
    expect([...message]).toEqual([80, 1, 2, 3]);
    expect(trailer).toEqual({ lastReceivedSequence: 2 ** 40 + 5, timeSinceLastReceive: latency ? 999 : 0 });
  });

  it('rejects a payload too short to hold a message and the trailer', () => {
    expect(() => splitTrailer(new Uint8Array(8), false)).toThrow(ProtocolError);
    expect(() => splitTrailer(new Uint8Array(12), true)).toThrow(/cannot hold a 12-byte reconnect trailer/);
  });
});
