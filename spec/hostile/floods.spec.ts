/**
 * Floods from an authenticated client that never reads: the server's outbound queue (the
 * `bytesQueued` figure of its session metrics) stays under `maxOutboundBuffer` plus what one read
 * provokes, because the server stops reading from that peer; once the peer reads again every
 * reply arrives and the session goes on. A well-behaved session on the same server is unharmed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { decode, encode } from '../../lib/codec/schema.js';
import * as M from '../../lib/codec/messages/connection.js';
import { SshWriter } from '../../lib/codec/wire.js';
import { hostileFixture, type HostileSetup } from '../helpers/hostile.js';

const cap = 256 * 1024;
/** What one socket read (at most 64 KiB of the smallest packets) can provoke beyond the cap. */
const slack = 128 * 1024;

function serverConfig(): SessionConfig {
  const config = SessionConfig.default();
  config.maxOutboundBuffer = cap;
  return config;
}

const fixture = hostileFixture(serverConfig, 'memory');
const setUp = fixture.setUp;
afterEach(fixture.tearDown);

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Sends `message(i)` until the server stops reading (our own queue backs up past 1 MiB) or
 * `limit` messages went out; returns how many were sent and the server's largest queue seen.
 */
async function flood(o: HostileSetup, message: (i: number) => Uint8Array, limit: number) {
  const session = o.server.sessions[1]!;
  let sent = 0;
  let peak = 0;
  while (sent < limit && o.hostile.transport.outboundBacklog < 256 * 1024 && peak <= cap + slack) {
    for (let i = 0; i < 500; i++) void o.hostile.send(message(sent++)).catch(() => {});
    await turn();
    peak = Math.max(peak, session.metrics.bytesQueued);
  }
  // Let the server take what already reached it: its queue must stay bounded meanwhile.
  for (let i = 0; i < 200; i++) {
    await turn();
    peak = Math.max(peak, session.metrics.bytesQueued);
  }
  return { sent, peak };
}

const floods: [string, (i: number) => Uint8Array, number][] = [
  ['unknown message numbers (UNIMPLEMENTED)', () => new Uint8Array([200]), 0],
  ['global requests with want_reply (REQUEST_FAILURE)', () => encode(M.GlobalRequest, { requestName: 'x', wantReply: true, data: new Uint8Array(0) }), 82],
  [
    'opens of an unknown channel type (OPEN_FAILURE echoing the type)',
    (i) => encode(M.ChannelOpen, { channelType: 'x'.repeat(200), senderChannel: i, initialWindowSize: 0, maximumPacketSize: 1024, data: new Uint8Array(0) }),
    92,
  ],
];

describe('a client that floods and never reads', () => {
  it.each(floods)('holds the server queue under the cap: %s', async (_name, message, replyType) => {
    const o = await setUp();
    o.hostile.stopReading();
    const { sent, peak } = await flood(o, message, 400_000);
    const session = o.server.sessions[1]!;
    expect(peak).toBeLessThanOrEqual(cap + slack);
    // The server stopped reading: what it took is less than what was sent.
    expect(session.metrics.packetsReceived).toBeLessThan(sent);
    o.hostile.resumeReading();
    const replies = (): number => (replyType === 0 ? o.hostile.unimplemented.length : o.hostile.counts.get(replyType) ?? 0);
    await o.hostile.waitFor(() => replies() >= sent, `${sent} replies`);
    expect(replies()).toBe(sent);
    if (replyType === 92) {
      const failure = decode(M.ChannelOpenFailure, o.hostile.received.find((p) => p[0] === 92)!);
      expect(failure.description).toBe(`Unknown channel type ${'x'.repeat(200)}`.slice(0, 256));
    }
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('caps an OPEN_FAILURE description that echoes a huge channel type', async () => {
    const o = await setUp();
    await o.hostile.send(encode(M.ChannelOpen, { channelType: 'y'.repeat(60_000), senderChannel: 5, initialWindowSize: 0, maximumPacketSize: 1024, data: new Uint8Array(0) }));
    const failure = decode(M.ChannelOpenFailure, await o.hostile.next(92));
    expect(failure.description).toHaveLength(256);
  });

  it('bounds what the server queues for a channel whose reader stopped, by the window and the cap', async () => {
    const o = await setUp();
    await o.hostile.send(encode(M.ChannelOpen, { channelType: 'session', senderChannel: 1, initialWindowSize: 0xffffffff, maximumPacketSize: 32 * 1024, data: new Uint8Array(0) }));
    await o.hostile.next(91);
    o.hostile.stopReading();
    const command = new SshWriter(64).string('head -c 100000000 /dev/zero').toBytes();
    const session = o.server.sessions[1]!;
    await o.hostile.send(encode(M.ChannelRequest, { recipientChannel: 0, requestType: 'exec', wantReply: false, data: command }));
    // Wait until the server's sending stalls: bytesSent unchanged over 20 polls.
    let peak = 0;
    for (let last = -1, still = 0; still < 20; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const now = session.metrics.bytesSent;
      peak = Math.max(peak, session.metrics.bytesQueued);
      still = now === last ? still + 1 : 0;
      last = now;
    }
    expect(session.metrics.bytesSent).toBeLessThan(100_000_000);
    // Channel data waits on the link's own high-water mark (256 KiB) and never reaches the cap.
    expect(peak).toBeLessThanOrEqual(cap + 64 * 1024);
    o.hostile.resumeReading();
    expect(await o.bystander.roundTrip()).toBe(true);
  });
});
