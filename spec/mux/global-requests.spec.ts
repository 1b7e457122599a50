import { describe, expect, it } from 'vitest';
import { encode } from '../../lib/codec/schema.js';
import * as M from '../../lib/codec/messages/connection.js';
import { connectionPair, settle, types } from './pair.js';

const port = (n: number): Uint8Array => new Uint8Array([0, 0, n >> 8, n & 0xff]);

describe('global requests', () => {
  it('answers FAILURE to requests nobody handles', async () => {
    const p = connectionPair();
    expect(await p.client.request({ requestType: 'unknown@example.com', wantReply: true })).toBe(false);
  });

  it('returns the reply data of a successful request', async () => {
    const p = connectionPair();
    p.server.onRequest = (e) => {
      e.responseData = port(8022);
      return e.requestType === 'tcpip-forward';
    };
    const reply = await p.client.requestWithReply({ requestType: 'tcpip-forward', wantReply: true, data: new Uint8Array([1]) });
    expect(reply).toEqual({ success: true, data: port(8022) });
  });

  it('matches replies to requests in FIFO order', async () => {
    const p = connectionPair();
    p.server.onRequest = (e) => e.data[0] === 1;
    const replies = await Promise.all(
      [1, 0, 1, 1, 0].map((v) => p.client.request({ requestType: 'x', wantReply: true, data: new Uint8Array([v]) })),
    );
    expect(replies).toEqual([true, false, true, true, false]);
  });

  it('answers in arrival order even when handlers finish out of order', async () => {
    const p = connectionPair();
    const finished: number[] = [];
    p.server.onRequest = async (e) => {
      const delay = e.data[0]!;
      await settle(delay);
      finished.push(delay);
      e.responseData = new Uint8Array([delay]);
      return true;
    };
    const replies = await Promise.all(
      [8, 1, 4].map((d) => p.client.requestWithReply({ requestType: 'x', wantReply: true, data: new Uint8Array([d]) })),
    );
    expect(finished).toEqual([1, 4, 8]);
    expect(replies.map((r) => r.data[0])).toEqual([8, 1, 4]);
  });

  it('runs a handler without reply and resolves the sender at once', async () => {
    const p = connectionPair();
    let seen = '';
    p.server.onRequest = (e) => void (seen = `${e.requestType}:${e.wantReply}`);
    expect(await p.client.request({ requestType: 'no-more-sessions@openssh.com' })).toBe(true);
    await settle();
    expect(seen).toBe('no-more-sessions@openssh.com:false');
    expect(types(p.toClient)).toEqual([]);
  });

  it('treats a throwing handler as FAILURE', async () => {
    const p = connectionPair();
    p.server.onRequest = async () => {
      throw new Error('boom');
    };
    expect(await p.client.request({ requestType: 'x', wantReply: true })).toBe(false);
  });

  it('answers keepalive@openssh.com without asking the handler', async () => {
    const p = connectionPair();
    let asked = false;
    p.server.onRequest = () => (asked = true);
    expect(await p.client.request({ requestType: 'keepalive@openssh.com', wantReply: true })).toBe(false);
    expect(asked).toBe(false);
  });

  it('drops unsolicited SUCCESS and FAILURE without disturbing later replies', async () => {
    const p = connectionPair();
    p.toClient.inject(encode(M.RequestSuccess, { data: new Uint8Array(0) }));
    p.toClient.inject(encode(M.RequestFailure, {}));
    p.toClient.inject(encode(M.ChannelSuccess, { recipientChannel: 0 }));
    await settle();
    p.server.onRequest = () => true;
    expect(await p.client.request({ requestType: 'x', wantReply: true })).toBe(true);
    expect(p.toClient.errors).toEqual([]);
  });

  it('rejects pending requests with the session error', async () => {
    const p = connectionPair();
    p.server.onRequest = () => new Promise(() => {});
    const pending = p.client.request({ requestType: 'x', wantReply: true });
    await settle();
    const error = new Error('closed');
    p.close(error);
    await expect(pending).rejects.toBe(error);
    await expect(p.client.request({ requestType: 'x' })).rejects.toBe(error);
  });
});
