import { describe, expect, it } from 'vitest';
import { ChannelOpenError, ChannelOpenFailureReason, ProtocolError } from '../../lib/errors.js';
import { SessionConfig } from '../../lib/config.js';
import { encode } from '../../lib/codec/schema.js';
import * as M from '../../lib/codec/messages/connection.js';
import type { Channel } from '../../lib/mux/channel.js';
import { connectionPair, readAll, settle, types } from './pair.js';

describe('Connection channel opens', () => {
  it('opens a session channel that the server accepts', async () => {
    const p = connectionPair();
    const [c, s] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    expect(c.channelType).toBe('session');
    expect(s.remoteChannelId).toBe(c.channelId);
    expect(c.remoteChannelId).toBe(s.channelId);
    expect(p.client.channelCount).toBe(1);
  });

  it('refuses unknown channel types with unknownChannelType', async () => {
    const p = connectionPair();
    const open = p.client.openChannel('x-unknown@example.com');
    await expect(open).rejects.toBeInstanceOf(ChannelOpenError);
    await expect(open).rejects.toMatchObject({ reason: ChannelOpenFailureReason.unknownChannelType });
    expect(p.client.channelCount).toBe(0);
    expect(p.server.channelCount).toBe(0);
  });

  it('lets the opening hook reject with a reason and description', async () => {
    const p = connectionPair();
    p.server.onChannelOpening = async (e) => {
      await settle(1);
      if (e.channelType === 'session') e.reject(ChannelOpenFailureReason.administrativelyProhibited, 'No sessions today');
    };
    await expect(p.client.openChannel()).rejects.toMatchObject({ reason: 1, description: 'No sessions today' });
  });

  it('lets the opening hook accept custom types and read their open data', async () => {
    const p = connectionPair();
    let seen: Uint8Array | undefined;
    p.server.onChannelOpening = (e) => void (seen = e.data);
    const [c, s] = await Promise.all([
      p.client.openChannel('custom@example.com', { data: new Uint8Array([1, 2, 3]) }),
      p.server.acceptChannel('custom@example.com'),
    ]);
    expect(seen).toEqual(new Uint8Array([1, 2, 3]));
    expect(s.channelType).toBe(c.channelType);
  });

  it('turns a throwing opening hook into connectFailed', async () => {
    const p = connectionPair();
    p.server.onChannelOpening = () => {
      throw new Error('Backend down');
    };
    await expect(p.client.openChannel()).rejects.toMatchObject({ reason: 2, description: 'Backend down' });
  });

  it('accepts a type someone waits for with acceptChannel(type)', async () => {
    const p = connectionPair();
    const accepted = p.client.acceptChannel('forwarded-tcpip');
    const opened = await p.server.openChannel('forwarded-tcpip');
    expect((await accepted).remoteChannelId).toBe(opened.channelId);
  });

  it('refuses opens beyond maxChannels with resourceShortage', async () => {
    const server = SessionConfig.default();
    server.maxChannels = 2;
    const p = connectionPair({ server });
    await Promise.all([p.client.openChannel(), p.client.openChannel()]);
    await expect(p.client.openChannel()).rejects.toMatchObject({ reason: ChannelOpenFailureReason.resourceShortage });
  });

  it('yields incoming channels from the channels iterator and ends it on close', async () => {
    const p = connectionPair();
    const seen: Channel[] = [];
    const loop = (async () => {
      for await (const ch of p.server.channels) seen.push(ch);
    })();
    await Promise.all([p.client.openChannel(), p.client.openChannel()]);
    await settle();
    p.close(new Error('done'));
    await loop;
    expect(seen).toHaveLength(2);
  });

  it('turns an opening hook whose promise rejects into connectFailed', async () => {
    const p = connectionPair();
    p.server.onChannelOpening = () => Promise.reject(new Error('Backend gone'));
    await expect(p.client.openChannel()).rejects.toMatchObject({ reason: 2, description: 'Backend gone' });
    expect(p.server.channelCount).toBe(0);
  });

  it('confirms an open within the same handleMessage call when the hook decides synchronously', () => {
    const p = connectionPair();
    p.server.onChannelOpening = () => {};
    const before = p.toClient.log.length;
    const open = { channelType: 'session', senderChannel: 4, initialWindowSize: 1024, maximumPacketSize: 1024, data: new Uint8Array(0) };
    p.server.handleMessage(encode(M.ChannelOpen, open));
    const sent = p.toClient.log.slice(before);
    expect(sent.map((m) => m[0])).toEqual([91]);
    expect(M.decodeChannelOpenConfirmation(sent[0]!)).toMatchObject({ recipientChannel: 4, initialWindowSize: SessionConfig.default().maxChannelWindowSize });
  });

  it('stops taking channels once the channels loop breaks; later ones wait for acceptChannel', async () => {
    const p = connectionPair();
    const first = (async () => {
      for await (const ch of p.server.channels) return ch;
      return undefined;
    })();
    const [c1] = await Promise.all([p.client.openChannel(), first]);
    const [c2, accepted] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    expect((await first)!.remoteChannelId).toBe(c1.channelId);
    expect(accepted.remoteChannelId).toBe(c2.channelId);
    const iterator = p.server.channels[Symbol.asyncIterator]();
    await iterator.return!();
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('rejects pending opens and accepts with the session error', async () => {
    const p = connectionPair();
    p.toServer.paused = true;
    const open = p.client.openChannel();
    const accept = p.server.acceptChannel();
    const error = new Error('gone');
    p.close(error);
    await expect(open).rejects.toBe(error);
    await expect(accept).rejects.toBe(error);
    await expect(p.client.openChannel()).rejects.toBe(error);
  });

  it('opens and closes 1000 channels concurrently and leaves no channel behind', async () => {
    const p = connectionPair({ highWaterMark: 16 });
    void (async () => {
      for await (const ch of p.server.channels) {
        void readAll(ch.readable).then(async (data) => {
          const writer = ch.writable.getWriter();
          await writer.write(data);
          await writer.close();
          await ch.close({ exitStatus: data[0]! });
        });
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const ch = await p.client.openChannel();
        const writer = ch.writable.getWriter();
        await writer.write(new Uint8Array([i & 0xff, 1, 2]));
        await writer.close();
        const echoed = await readAll(ch.readable);
        return { echoed, info: await ch.closed, i };
      }),
    );
    for (const { echoed, info, i } of results) {
      expect(echoed).toEqual(new Uint8Array([i & 0xff, 1, 2]));
      expect(info).toEqual({ closedBy: 'remote', exitStatus: i & 0xff });
    }
    await settle();
    expect(p.client.channelCount).toBe(0);
    expect(p.server.channelCount).toBe(0);
  });
});

describe('Connection.handleMessage', () => {
  it.each([
    ['a truncated CHANNEL_OPEN', new Uint8Array([90, 0, 0, 0, 7, 115])],
    ['a CHANNEL_EOF with trailing bytes', new Uint8Array([96, 0, 0, 0, 0, 1])],
    ['a GLOBAL_REQUEST with invalid UTF-8', new Uint8Array([80, 0, 0, 0, 1, 0xff, 0])],
    ['a message outside 80-100', new Uint8Array([101, 0, 0, 0, 0])],
    ['an empty payload', new Uint8Array(0)],
  ])('throws ProtocolError for %s', (_name, payload) => {
    const p = connectionPair();
    expect(() => p.server.handleMessage(payload)).toThrow(ProtocolError);
  });

  it('ignores messages for unknown channels', async () => {
    const p = connectionPair();
    for (const payload of [
      M.encodeChannelData(77, new Uint8Array(5)),
      M.encodeChannelWindowAdjust(77, 5),
      encode(M.ChannelEof, { recipientChannel: 77 }),
      encode(M.ChannelClose, { recipientChannel: 77 }),
      encode(M.ChannelRequest, { recipientChannel: 77, requestType: 'exec', wantReply: true, data: new Uint8Array([0, 0, 0, 0]) }),
      encode(M.ChannelSuccess, { recipientChannel: 77 }),
    ]) {
      expect(() => p.server.handleMessage(payload)).not.toThrow();
    }
    await settle();
    expect(p.toClient.log).toEqual([]);
  });

  it('throws ProtocolError for a second open confirmation of an open channel', async () => {
    const p = connectionPair();
    const [c] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    const again = encode(M.ChannelOpenConfirmation, {
      recipientChannel: c.channelId, senderChannel: 5, initialWindowSize: 1, maximumPacketSize: 1, data: new Uint8Array(0),
    });
    expect(() => p.client.handleMessage(again)).toThrow(ProtocolError);
  });

  it('throws ProtocolError for a window adjust that overflows 2^32-1', async () => {
    const p = connectionPair();
    const [c] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    expect(() => p.client.handleMessage(M.encodeChannelWindowAdjust(c.channelId, 0xffffffff))).toThrow(/overflows window/);
  });

  it('sends nothing after the session closed', async () => {
    const p = connectionPair();
    p.close(new Error('x'));
    p.server.handleMessage(encode(M.ChannelOpen, { channelType: 'session', senderChannel: 1, initialWindowSize: 10, maximumPacketSize: 10, data: new Uint8Array(0) }));
    await settle();
    expect(types(p.toClient)).toEqual([]);
  });
});
