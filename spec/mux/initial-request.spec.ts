import { describe, expect, it } from 'vitest';
import { ChannelOpenError } from '../../lib/errors.js';
import { SessionConfig } from '../../lib/config.js';
import { ChannelRequest } from '../../lib/codec/messages/connection.js';
import { decode } from '../../lib/codec/schema.js';
import {
  decodeInitialChannelRequest,
  encodeInitialChannelRequest,
} from '../../lib/mux/initial-request.js';
import { connectionPair, types } from './pair.js';

const ext = 'open-channel-request@microsoft.com';

function config(withExtension: boolean): SessionConfig {
  const c = SessionConfig.default();
  c.protocolExtensions = withExtension ? [ext] : [];
  return c;
}

describe('initial channel request wire format', () => {
  it('holds the sender channel then a whole CHANNEL_REQUEST with recipient 0', () => {
    const data = encodeInitialChannelRequest({ senderChannel: 5, requestType: 'exec', wantReply: true, data: new Uint8Array([0, 0, 0, 1, 120]) });
    expect([...data.subarray(0, 5)]).toEqual([0, 0, 0, 5, 98]);
    expect(decode(ChannelRequest, data.subarray(4))).toMatchObject({ recipientChannel: 0, requestType: 'exec', wantReply: true });
    expect(decodeInitialChannelRequest(data)).toEqual({ senderChannel: 5, requestType: 'exec', wantReply: true, data: new Uint8Array([0, 0, 0, 1, 120]) });
  });
});

describe('openChannel with an initial request', () => {
  it.each([
    // client has it, server has it, client knows the server's EXT_INFO, global requests expected, channel requests expected
    ['both support it and EXT_INFO said so', true, true, [ext], 1, 0],
    ['both support it but EXT_INFO is not known yet', true, true, undefined, 1, 0],
    ['only the opener supports it (unknown: retried)', true, false, undefined, 1, 1],
    ['the peer announced no support', true, false, [], 0, 1],
    ['the opener does not support it', false, true, [ext], 0, 1],
  ] as const)('works when %s', async (_name, clientExt, serverExt, peerExt, globals, channelRequests) => {
    const p = connectionPair({ client: config(clientExt), server: config(serverExt), clientPeerExtensions: peerExt });
    const accepted = p.server.acceptChannel().then((s) => {
      s.onRequest = (e) => e.requestType === 'exec' && e.command === 'whoami' && !e.wantReply === (globals > 0 && channelRequests === 0);
      return s;
    });
    const c = await p.client.openChannel('session', { initialRequest: { requestType: 'exec', wantReply: true, data: new Uint8Array([0, 0, 0, 6, ...new TextEncoder().encode('whoami')]) } });
    await accepted;
    expect(c.isClosed).toBe(false);
    expect(types(p.toServer).filter((t) => t === 80)).toHaveLength(globals);
    expect(types(p.toServer).filter((t) => t === 98)).toHaveLength(channelRequests);
  });

  it('closes the channel and throws when the initial request is denied', async () => {
    const p = connectionPair({ client: config(true), server: config(true), clientPeerExtensions: [ext] });
    void p.server.acceptChannel().then((s) => (s.onRequest = () => false));
    const open = p.client.openChannel('session', { initialRequest: { requestType: 'shell', wantReply: true } });
    await expect(open).rejects.toBeInstanceOf(ChannelOpenError);
    await expect(open).rejects.toThrow('The initial channel request was denied');
  });

  it('answers FAILURE for an initial request naming no channel being opened', async () => {
    const p = connectionPair({ client: config(true), server: config(true) });
    const data = encodeInitialChannelRequest({ senderChannel: 99, requestType: 'shell', wantReply: false, data: new Uint8Array(0) });
    expect(await p.client.request({ requestType: 'initial-channel-request@microsoft.com', wantReply: true, data })).toBe(false);
  });
});
