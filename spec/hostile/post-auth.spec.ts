/**
 * An authenticated client that misbehaves: each case ends in the per-RFC refusal (the session goes
 * on, proven by a global request answered afterwards) or in a DISCONNECT with the right reason,
 * and a well-behaved session on the same server moves its data intact throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { decode, encode } from '../../lib/codec/schema.js';
import * as M from '../../lib/codec/messages/connection.js';
import { SshWriter } from '../../lib/codec/wire.js';
import { DisconnectReason } from '../../lib/errors.js';
import { ServiceRequest } from '../../lib/codec/messages/transport.js';
import { UserauthRequest, connectionServiceName } from '../../lib/codec/messages/userauth.js';
import { encodePasswordFields } from '../../lib/auth/password.js';
import { HostileClient, hostileFixture, type HostileSetup } from '../helpers/hostile.js';

const window = 64 * 1024;
const maxPacket = 16 * 1024;

function serverConfig(): SessionConfig {
  const config = SessionConfig.default();
  config.maxChannelWindowSize = window;
  config.maxChannelPacketSize = maxPacket;
  config.maxChannels = 8;
  return config;
}

const fixture = hostileFixture(serverConfig);
const setUp = fixture.setUp;
afterEach(fixture.tearDown);

let nextId = 100;

/** Opens a channel as the hostile client; resolves with the server's channel number. */
async function openChannel(h: HostileClient, options: { type?: string; window?: number; maxPacket?: number } = {}): Promise<number> {
  const senderChannel = nextId++;
  await h.send(
    encode(M.ChannelOpen, {
      channelType: options.type ?? 'session',
      senderChannel,
      initialWindowSize: options.window ?? 1 << 20,
      maximumPacketSize: options.maxPacket ?? 32 * 1024,
      data: new Uint8Array(0),
    }),
  );
  const reply = await h.next(91, 'CHANNEL_OPEN_CONFIRMATION');
  const m = decode(M.ChannelOpenConfirmation, reply);
  expect(m.recipientChannel).toBe(senderChannel);
  return m.senderChannel;
}

/** A global request with want_reply: the session is still served when its FAILURE comes back. */
async function stillServed(h: HostileClient): Promise<void> {
  await h.send(encode(M.GlobalRequest, { requestName: 'ping@example.com', wantReply: true, data: new Uint8Array(0) }));
  await h.next(82, 'REQUEST_FAILURE');
}

/** The hostile session ended with DISCONNECT `reason`, and the bystander is unharmed. */
async function expectDisconnect(o: HostileSetup, reason: number, text: RegExp): Promise<void> {
  const info = await o.hostile.disconnected();
  expect(info.initiatedBy).toBe('remote');
  expect(info.reason).toBe(reason);
  expect(info.description).toMatch(text);
  const serverSide = await o.server.ends[1]!;
  expect(serverSide.reason).toBe(reason);
  expect(await o.bystander.roundTrip()).toBe(true);
}

function data(recipientChannel: number, length: number): Uint8Array {
  return M.encodeChannelData(recipientChannel, new Uint8Array(length).fill(0x61));
}

describe('an authenticated hostile client', () => {
  it('is disconnected (PROTOCOL_ERROR) for data beyond the window', async () => {
    const o = await setUp();
    const id = await openChannel(o.hostile);
    for (let sent = 0; sent < window; sent += maxPacket) await o.hostile.send(data(id, maxPacket));
    await o.hostile.send(data(id, 1));
    await expectDisconnect(o, DisconnectReason.protocolError, /exceeded window by 1 bytes/);
  });

  it('is disconnected (PROTOCOL_ERROR) for data over the maximum packet', async () => {
    const o = await setUp();
    const id = await openChannel(o.hostile);
    await o.hostile.send(data(id, maxPacket + 1));
    await expectDisconnect(o, DisconnectReason.protocolError, new RegExp(`${maxPacket + 1} bytes in one packet.*maximum is ${maxPacket}`));
  });

  it('is disconnected (PROTOCOL_ERROR) for a WINDOW_ADJUST past 2^32-1', async () => {
    const o = await setUp();
    const id = await openChannel(o.hostile);
    await o.hostile.send(M.encodeChannelWindowAdjust(id, 0xffffffff));
    await expectDisconnect(o, DisconnectReason.protocolError, /Window adjust of 4294967295 overflows/);
  });

  it('has messages for unknown channels dropped, and the session goes on', async () => {
    const o = await setUp();
    await o.hostile.send(data(4242, 10));
    await o.hostile.send(M.encodeChannelWindowAdjust(4242, 10));
    await o.hostile.send(encode(M.ChannelEof, { recipientChannel: 4242 }));
    await o.hostile.send(encode(M.ChannelClose, { recipientChannel: 4242 }));
    await o.hostile.send(encode(M.ChannelRequest, { recipientChannel: 4242, requestType: 'exec', wantReply: true, data: new Uint8Array(0) }));
    await o.hostile.send(encode(M.ChannelSuccess, { recipientChannel: 4242 }));
    await o.hostile.send(encode(M.ChannelOpenConfirmation, { recipientChannel: 4242, senderChannel: 1, initialWindowSize: 1, maximumPacketSize: 1024, data: new Uint8Array(0) }));
    await o.hostile.send(encode(M.ChannelOpenFailure, { recipientChannel: 4242, reasonCode: 1, description: '', languageTag: '' }));
    await o.hostile.send(encode(M.RequestSuccess, { data: new Uint8Array(0) }));
    await stillServed(o.hostile);
    expect(o.hostile.unimplemented).toEqual([]);
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('has EOF twice and CLOSE twice ignored, and messages for the closed channel dropped', async () => {
    const o = await setUp();
    const id = await openChannel(o.hostile);
    await o.hostile.send(encode(M.ChannelEof, { recipientChannel: id }));
    await o.hostile.send(encode(M.ChannelEof, { recipientChannel: id }));
    await o.hostile.send(encode(M.ChannelClose, { recipientChannel: id }));
    await o.hostile.next(97, 'CHANNEL_CLOSE');
    await o.hostile.send(encode(M.ChannelClose, { recipientChannel: id }));
    await o.hostile.send(data(id, 10));
    await o.hostile.send(encode(M.ChannelRequest, { recipientChannel: id, requestType: 'shell', wantReply: true, data: new Uint8Array(0) }));
    await stillServed(o.hostile);
    expect(o.hostile.received.filter((p) => p[0] === 97)).toHaveLength(1);
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('is disconnected (PROTOCOL_ERROR) for a CHANNEL_OPEN whose lengths run past the end', async () => {
    const o = await setUp();
    const w = new SshWriter(32);
    w.byte(90).uint32(1000).raw(new TextEncoder().encode('sess'));
    await o.hostile.send(w.toBytes());
    await expectDisconnect(o, DisconnectReason.protocolError, /ChannelOpen\.channelType/);
  });

  it('is disconnected (PROTOCOL_ERROR) for an exec request whose command runs past the end', async () => {
    const o = await setUp();
    const id = await openChannel(o.hostile);
    const w = new SshWriter(32);
    w.uint32(100).raw(new TextEncoder().encode('ls'));
    await o.hostile.send(encode(M.ChannelRequest, { recipientChannel: id, requestType: 'exec', wantReply: true, data: w.toBytes() }));
    await expectDisconnect(o, DisconnectReason.protocolError, /exec|command|end of/i);
  });

  it('gets CHANNEL_FAILURE for a pty-req with absurd sizes, and the channel goes on', async () => {
    const o = await setUp();
    const id = await openChannel(o.hostile);
    const w = new SshWriter(64);
    w.string('xterm').uint32(0xffffffff).uint32(0xffffffff).uint32(0xffffffff).uint32(0xffffffff).string(new Uint8Array(0));
    await o.hostile.send(encode(M.ChannelRequest, { recipientChannel: id, requestType: 'pty-req', wantReply: true, data: w.toBytes() }));
    expect(decode(M.ChannelFailure, await o.hostile.next(100, 'CHANNEL_FAILURE')).recipientChannel).toBe(nextId - 1);
    const exec = new SshWriter(16).string('printf ok').toBytes();
    await o.hostile.send(encode(M.ChannelRequest, { recipientChannel: id, requestType: 'exec', wantReply: true, data: exec }));
    await o.hostile.next(99, 'CHANNEL_SUCCESS');
    const out = decode(M.ChannelData, await o.hostile.next(94, 'CHANNEL_DATA'));
    expect(new TextDecoder().decode(out.data)).toBe('ok');
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('gets UNIMPLEMENTED for every unrecognised message number, auth and connection ranges included', async () => {
    const o = await setUp();
    const numbers = [0, 6, 8, 9, 10, 15, 19, 22, 25, 29, 30, 31, 40, 49, 51, 52, 53, 54, 59, 60, 61, 62, 70, 79, 83, 84, 85, 86, 87, 88, 89, 101, 150, 191, 192, 255];
    for (const n of numbers) await o.hostile.send(new Uint8Array([n, 1, 2, 3]));
    await o.hostile.waitFor(() => o.hostile.unimplemented.length >= numbers.length, 'UNIMPLEMENTED replies');
    const sequences = o.hostile.unimplemented;
    expect(sequences).toHaveLength(numbers.length);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBe(sequences[0]! + i);
    await stillServed(o.hostile);
    expect(o.hostile.unimplemented).toHaveLength(numbers.length);
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('has a USERAUTH_REQUEST after authentication ignored (RFC 4252 §5.1)', async () => {
    const o = await setUp();
    const methodFields = encodePasswordFields({ password: 'wrong' });
    await o.hostile.send(encode(UserauthRequest, { userName: 'root', serviceName: connectionServiceName, methodName: 'password', methodFields }));
    await stillServed(o.hostile);
    expect(o.hostile.received.filter((p) => p[0] >= 50 && p[0] <= 79)).toHaveLength(1);
    expect(o.hostile.unimplemented).toEqual([]);
  });

  it('is disconnected (SERVICE_NOT_AVAILABLE) for a SERVICE_REQUEST after authentication', async () => {
    const o = await setUp();
    await o.hostile.send(encode(ServiceRequest, { serviceName: 'ssh-userauth' }));
    await expectDisconnect(o, DisconnectReason.serviceNotAvailable, /Service ssh-userauth is not available/);
  });

  it('is served through a storm of 30 back-to-back re-keys', async () => {
    const o = await setUp();
    const roundTrip = o.bystander.roundTrip(4 << 20);
    for (let i = 0; i < 30; i++) await o.hostile.transport.rekey();
    await stillServed(o.hostile);
    expect(o.server.sessions[1]!.metrics.keyExchanges).toBe(31);
    expect(await roundTrip).toBe(true);
  });

  it('has an IGNORE flood read and dropped: nothing queued, nothing answered', async () => {
    const o = await setUp();
    const ignore = new SshWriter(1100).byte(2).string(new Uint8Array(1024)).toBytes();
    for (let i = 0; i < 20000; i++) await o.hostile.send(ignore);
    await stillServed(o.hostile);
    const session = o.server.sessions[1]!;
    expect(session.metrics.packetsReceived).toBeGreaterThan(20000);
    expect(session.metrics.bytesQueued).toBe(0);
    expect(o.hostile.received.filter((p) => p[0] !== 6 && p[0] !== 52 && p[0] !== 82)).toEqual([]);
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('gets OPEN_FAILURE (resource shortage) for opens past maxChannels, and the session goes on', async () => {
    const o = await setUp();
    for (let i = 0; i < 8; i++) await openChannel(o.hostile);
    await o.hostile.send(encode(M.ChannelOpen, { channelType: 'session', senderChannel: 9999, initialWindowSize: 1024, maximumPacketSize: 1024, data: new Uint8Array(0) }));
    const failure = decode(M.ChannelOpenFailure, await o.hostile.next(92, 'CHANNEL_OPEN_FAILURE'));
    expect(failure).toMatchObject({ recipientChannel: 9999, reasonCode: 4, description: 'Channel limit 8 reached' });
    await stillServed(o.hostile);
    expect(await o.bystander.roundTrip()).toBe(true);
  });

  it('gets OPEN_FAILURE for a channel whose maximum packet cannot carry one byte', async () => {
    const o = await setUp();
    for (const size of [0, 9]) {
      await o.hostile.send(encode(M.ChannelOpen, { channelType: 'session', senderChannel: 77, initialWindowSize: 1 << 20, maximumPacketSize: size, data: new Uint8Array(0) }));
      const failure = decode(M.ChannelOpenFailure, await o.hostile.next(92, 'CHANNEL_OPEN_FAILURE'));
      expect(failure).toMatchObject({ recipientChannel: 77, reasonCode: 4 });
      expect(failure.description).toBe(`Maximum packet size ${size} is too small for channel data (at least 10)`);
    }
    await stillServed(o.hostile);
    expect(await o.bystander.roundTrip()).toBe(true);
  });
});
