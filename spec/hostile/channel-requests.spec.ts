/**
 * Channel requests sent faster than the server's handlers answer them, spread over many channels
 * and not read back: each channel holds at most 1024, the session at most
 * `config.maxPendingChannelRequests` requests and `maxPendingChannelRequestBytes` of their data;
 * one more is a DISCONNECT (protocol error). Below the bounds every request is answered once the
 * handlers finish and the session goes on. A well-behaved session on the same server is unharmed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { decode, encode } from '../../lib/codec/schema.js';
import * as M from '../../lib/codec/messages/connection.js';
import { DisconnectReason } from '../../lib/errors.js';
import type { Channel } from '../../lib/mux/channel.js';
import { serveExec } from '../../lib/session/exec.js';
import { hostileFixture, type HostileClient, type HostileSetup } from '../helpers/hostile.js';

const slowRequest = 'slow@ssh-streams.test';
const maxRequests = 64;
const maxBytes = 64 * 1024;

function newGate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Requests of type `slowRequest` wait for the gate; everything else is served by serveExec. */
let gate = newGate();
let running = 0;
let sessionBound = maxRequests;
function serve(channel: Channel): void {
  serveExec(channel);
  const exec = channel.onRequest!;
  channel.onRequest = async (e) => {
    if (e.requestType !== slowRequest) return exec(e);
    running++;
    await gate.promise;
    return true;
  };
}

function serverConfig(): SessionConfig {
  const config = SessionConfig.default();
  config.maxPendingChannelRequests = sessionBound;
  config.maxPendingChannelRequestBytes = maxBytes;
  return config;
}

const fixture = hostileFixture(serverConfig, 'tcp', serve);
afterEach(async () => {
  gate.resolve();
  sessionBound = maxRequests;
  await fixture.tearDown();
});

async function setUp(): Promise<HostileSetup> {
  gate = newGate();
  running = 0;
  return fixture.setUp();
}

/** Opens `count` session channels as the hostile client; resolves with the server's channel numbers. */
async function openChannels(h: HostileClient, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    await h.send(encode(M.ChannelOpen, { channelType: 'session', senderChannel: i, initialWindowSize: 1 << 20, maximumPacketSize: 32 * 1024, data: new Uint8Array(0) }));
    ids.push(decode(M.ChannelOpenConfirmation, await h.next(91, 'CHANNEL_OPEN_CONFIRMATION')).senderChannel);
  }
  return ids;
}

function slow(recipientChannel: number, dataLength = 0): Uint8Array {
  return encode(M.ChannelRequest, { recipientChannel, requestType: slowRequest, wantReply: true, data: new Uint8Array(dataLength) });
}

/** The hostile session ended with DISCONNECT (protocol error) matching `text`; the bystander is unharmed. */
async function expectDisconnect(o: HostileSetup, text: RegExp): Promise<void> {
  o.hostile.resumeReading();
  const info = await o.hostile.disconnected();
  expect(info.initiatedBy).toBe('remote');
  expect(info.reason).toBe(DisconnectReason.protocolError);
  expect(info.description).toMatch(text);
  expect((await o.server.ends[1]!).reason).toBe(DisconnectReason.protocolError);
  expect(await o.bystander.roundTrip()).toBe(true);
}

describe('channel requests a client sends without the replies coming back', () => {
  it('are all answered once the handlers finish, up to the session bound', async () => {
    const o = await setUp();
    const ids = await openChannels(o.hostile, 8);
    o.hostile.stopReading();
    for (let i = 0; i < maxRequests; i++) await o.hostile.send(slow(ids[i % ids.length]!));
    // Every channel runs its first request; the rest wait behind it.
    await expect.poll(() => running).toBe(ids.length);
    expect(o.hostile.counts.get(99) ?? 0).toBe(0);
    gate.resolve();
    o.hostile.resumeReading();
    await o.hostile.waitFor(() => (o.hostile.counts.get(99) ?? 0) === maxRequests, `${maxRequests} CHANNEL_SUCCESS`);
    expect(running).toBe(maxRequests);
    // The session goes on: a global request is answered and the bound is free again.
    await o.hostile.send(encode(M.GlobalRequest, { requestName: 'ping@example.com', wantReply: true, data: new Uint8Array(0) }));
    await o.hostile.next(82, 'REQUEST_FAILURE');
    gate = newGate();
    for (let i = 0; i < maxRequests; i++) await o.hostile.send(slow(ids[i % ids.length]!));
    gate.resolve();
    await o.hostile.waitFor(() => (o.hostile.counts.get(99) ?? 0) === 2 * maxRequests, `${2 * maxRequests} CHANNEL_SUCCESS`);
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('is disconnected (PROTOCOL_ERROR) one request past the session bound, spread over channels', async () => {
    const o = await setUp();
    const ids = await openChannels(o.hostile, 8);
    o.hostile.stopReading();
    // 8 per channel is far below the per-channel bound: only the session-wide one can end this.
    for (let i = 0; i <= maxRequests; i++) await o.hostile.send(slow(ids[i % ids.length]!));
    await expectDisconnect(o, new RegExp(`Peer has ${maxRequests} unanswered channel requests in this session .*limit is ${maxRequests}`));
  });

  it('is disconnected (PROTOCOL_ERROR) past the bytes bound of waiting requests', async () => {
    const o = await setUp();
    const ids = await openChannels(o.hostile, 4);
    o.hostile.stopReading();
    // Four requests of 16 KiB fill the bound exactly; one byte more ends the session.
    for (let i = 0; i < 4; i++) await o.hostile.send(slow(ids[i]!, 16 * 1024));
    await o.hostile.send(slow(ids[0]!, 1));
    await expectDisconnect(o, new RegExp(`Peer has ${maxBytes + 1} bytes of unanswered channel requests in this session .*limit is ${maxBytes}`));
  });

  it('is disconnected (PROTOCOL_ERROR) past 1024 waiting on one channel, below the session bound', async () => {
    sessionBound = 4096;
    const o = await setUp();
    const [id] = await openChannels(o.hostile, 1);
    o.hostile.stopReading();
    for (let i = 0; i <= 1024; i++) await o.hostile.send(slow(id!));
    await expectDisconnect(o, new RegExp(`Peer has 1024 unanswered requests on channel ${id}`));
  });
});
