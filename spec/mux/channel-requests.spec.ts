import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../lib/errors.js';
import { connectionPair, settle } from './pair.js';

async function channelPair() {
  const pair = connectionPair();
  const [c, s] = await Promise.all([pair.client.openChannel(), pair.server.acceptChannel()]);
  return { ...pair, c, s };
}

describe('channel requests', () => {
  it('rejects a request whose channel closed while the call was starting, instead of waiting for a reply forever', async () => {
    const p = await channelPair();
    const pending = p.c.request({ requestType: 'x', wantReply: true });
    await p.c.close();
    const outcome = await Promise.race([pending.then(() => 'resolved', (e: unknown) => e), settle(50).then(() => 'still pending')]);
    expect(outcome).toBeInstanceOf(ChannelClosedError);
  });

  it('answers FAILURE when no handler is set', async () => {
    const p = await channelPair();
    expect(await p.c.request({ requestType: 'my-custom-request', wantReply: true })).toBe(false);
  });

  it('passes type, want_reply and raw data to the handler and returns its verdict', async () => {
    const p = await channelPair();
    p.s.onRequest = (e) => e.requestType === 'my-custom-request' && e.wantReply && e.data[0] === 9;
    expect(await p.c.request({ requestType: 'my-custom-request', wantReply: true, data: new Uint8Array([9]) })).toBe(true);
    expect(await p.c.request({ requestType: 'other', wantReply: true })).toBe(false);
  });

  it('answers requests on one channel in order, one handler at a time', async () => {
    const p = await channelPair();
    const log: string[] = [];
    p.s.onRequest = async (e) => {
      log.push(`start ${e.data[0]}`);
      await settle(4 - e.data[0]!);
      log.push(`end ${e.data[0]}`);
      return e.data[0]! % 2 === 0;
    };
    const replies = await Promise.all([0, 1, 2, 3].map((i) => p.c.request({ requestType: 'x', wantReply: true, data: new Uint8Array([i]) })));
    expect(replies).toEqual([true, false, true, false]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('never lets a slow handler on one channel delay another channel', async () => {
    const p = await channelPair();
    const [c2, s2] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    let release!: () => void;
    p.s.onRequest = () => new Promise<boolean>((resolve) => (release = () => resolve(true)));
    s2.onRequest = () => true;
    const slow = p.c.request({ requestType: 'slow', wantReply: true });
    await settle();
    expect(await c2.request({ requestType: 'fast', wantReply: true })).toBe(true);
    p.server.onRequest = () => true;
    expect(await p.client.request({ requestType: 'global', wantReply: true })).toBe(true);
    release();
    expect(await slow).toBe(true);
  });

  it('holds requests that arrive before the application set a handler', async () => {
    const p = connectionPair();
    const open = p.client.openChannel();
    const s = await p.server.acceptChannel();
    const c = await open;
    const reply = c.request({ requestType: 'early', wantReply: true });
    await settle(1);
    s.onRequest = (e) => e.requestType === 'early';
    expect(await reply).toBe(true);
  });

  it('drops unsolicited CHANNEL_SUCCESS safely', async () => {
    const p = await channelPair();
    p.s.onRequest = () => true;
    const { ChannelSuccess } = await import('../../lib/codec/messages/connection.js');
    const { encode } = await import('../../lib/codec/schema.js');
    p.toClient.inject(encode(ChannelSuccess, { recipientChannel: p.c.channelId }));
    await settle();
    p.s.onRequest = (e) => e.requestType === 'ok';
    expect(await p.c.request({ requestType: 'nope', wantReply: true })).toBe(false);
  });

  it('rejects a pending request with ChannelClosedError when the peer closes', async () => {
    const p = await channelPair();
    p.s.onRequest = async () => {
      await p.s.close();
      return true;
    };
    await expect(p.c.request({ requestType: 'x', wantReply: true })).rejects.toBeInstanceOf(ChannelClosedError);
    await expect(p.c.request({ requestType: 'x', wantReply: true })).rejects.toBeInstanceOf(ChannelClosedError);
  });
});
