import { describe, expect, it } from 'vitest';
import { ReconnectState } from '../../../lib/transport/reconnect/reconnect-state.js';
import { encodeEnableReconnect } from '../../../lib/transport/reconnect/messages.js';
import { appendTrailer } from '../../../lib/transport/reconnect/trailer.js';

const both = new Map([
  ['session-reconnect@microsoft.com', ''],
  ['session-latency@microsoft.com', ''],
]);
const ours = ['session-reconnect@microsoft.com', 'session-latency@microsoft.com'];

function state(clock: { t: number }, maxCacheSize = 100) {
  return new ReconnectState({ maxCacheSize, now: () => clock.t });
}

describe('ReconnectState', () => {
  it('negotiates only what both sides list', () => {
    const s = state({ t: 0 });
    expect(s.negotiate(ours, new Map([['server-sig-algs', '']]))).toBe(false);
    expect(s.negotiate(['session-reconnect@microsoft.com'], both)).toBe(true);
  });

  it('sends no trailer before enableOutgoing and a 12-byte one after, with the last received sequence', () => {
    const clock = { t: 0 };
    const s = state(clock);
    s.negotiate(ours, both);
    const before = new Uint8Array([94, 1]);
    expect(s.outbound(before)).toBe(before);
    for (let i = 0; i < 5; i++) s.inbound(new Uint8Array([2]));
    clock.t = 3;
    s.enableOutgoing();
    const wire = s.outbound(new Uint8Array([94, 1]));
    expect(wire.length).toBe(2 + 12);
    const view = new DataView(wire.buffer, wire.byteOffset + 2);
    expect(Number(view.getBigUint64(0))).toBe(4);
    expect(view.getUint32(8)).toBe(3000);
  });

  it('switches inbound trailers on with the peer\'s enable request, which it consumes', () => {
    const s = state({ t: 0 });
    s.negotiate(ours, both);
    expect(s.inbound(encodeEnableReconnect())).toBeUndefined();
    expect(s.incoming).toBe(true);
    const message = s.inbound(appendTrailer(new Uint8Array([94, 5]), 0, 0));
    expect([...message!]).toEqual([94, 5]);
    // A duplicate enable (with its trailer) is consumed too.
    expect(s.inbound(appendTrailer(encodeEnableReconnect(), 0, 0))).toBeUndefined();
  });

  it('drops acknowledged messages and measures round trips with the injected clock', () => {
    const clock = { t: 1000 };
    const s = state(clock);
    s.negotiate(ours, both);
    s.inbound(encodeEnableReconnect());
    s.enableOutgoing();
    s.outbound(new Uint8Array([94, 0])); // sequence 0, sent at 1000 ms
    clock.t = 1010;
    s.outbound(new Uint8Array([94, 1])); // sequence 1, sent at 1010 ms
    clock.t = 1050;
    // The peer acknowledges sequence 1 after holding it 15 ms: 40 - 15 = 25 ms round trip.
    s.inbound(appendTrailer(new Uint8Array([93]), 1, 15000));
    expect(s.cache.size).toBe(0);
    expect(s.latency.snapshot()).toEqual({ latencyCurrentMs: 25, latencyMinMs: 25, latencyMaxMs: 25, latencyAverageMs: 25 });
    s.outbound(new Uint8Array([94, 2]));
    clock.t = 1060;
    s.inbound(appendTrailer(new Uint8Array([93]), 2, 0));
    expect(s.latency.snapshot()).toEqual({ latencyCurrentMs: 10, latencyMinMs: 10, latencyMaxMs: 25, latencyAverageMs: 17.5 });
    s.latency.disconnected();
    expect(s.latency.latencyCurrentMs).toBe(0);
  });

  it('caches a copy of a payload sent without trailer (the writer seals it in place)', () => {
    const s = state({ t: 0 });
    s.resume();
    const payload = new Uint8Array([94, 7]);
    s.outbound(payload);
    payload.fill(0);
    expect([...s.cache.sentMessagesFrom(0)![0]!]).toEqual([94, 7]);
  });

  it('gives messages sent while disconnected the next sequence numbers', () => {
    const s = state({ t: 0 });
    s.negotiate(ours, both);
    s.enableOutgoing();
    s.outbound(new Uint8Array([94, 0]));
    s.cacheUnsent(new Uint8Array([94, 1]));
    s.cacheUnsent(new Uint8Array([94, 2]));
    expect(s.cache.sentMessagesFrom(1)!.map((m) => m[1])).toEqual([1, 2]);
  });
});
