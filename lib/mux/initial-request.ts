/**
 * open-channel-request@microsoft.com (reference notes §2.2): the first channel request travels in
 * a global request right behind CHANNEL_OPEN, saving a round trip. This file owns its wire format
 * and the three support states; connection.ts decides when to use it.
 */
import { ProtocolError } from '../errors.js';
import { decode, encode } from '../codec/schema.js';
import { ChannelRequest } from '../codec/messages/connection.js';
import { SshReader, SshWriter } from '../codec/wire.js';

/** The global request carrying an initial channel request. */
export const initialChannelRequestType = 'initial-channel-request@microsoft.com';

/**
 * Whether the peer handles initial channel requests: 'unsupported' (send a normal request after the
 * open), 'unknown' (bundle it with want_reply and retry normally on FAILURE), 'supported'.
 */
export type InitialRequestSupport = 'unsupported' | 'unknown' | 'supported';

/** The channel request decoded from an initial-channel-request. */
export interface InitialChannelRequest {
  senderChannel: number;
  requestType: string;
  wantReply: boolean;
  data: Uint8Array;
}

/** Reference §2.2: uint32 sender channel, then a whole CHANNEL_REQUEST (type byte 98, recipient 0). */
export function encodeInitialChannelRequest(request: InitialChannelRequest): Uint8Array {
  const inner = encode(ChannelRequest, {
    recipientChannel: 0,
    requestType: request.requestType,
    wantReply: request.wantReply,
    data: request.data,
  });
  return new SshWriter(4 + inner.length).uint32(request.senderChannel).raw(inner).toBytes();
}

/**
 * Reference §2.2: decodes the global request data.
 * @throws ProtocolError when it is malformed
 */
export function decodeInitialChannelRequest(data: Uint8Array): InitialChannelRequest {
  const r = new SshReader(data);
  r.context = 'InitialChannelRequest.senderChannel';
  const senderChannel = r.uint32();
  const inner = r.rest();
  if (inner.length === 0) throw new ProtocolError('InitialChannelRequest: missing embedded ChannelRequest at offset 4');
  const request = decode(ChannelRequest, inner);
  return { senderChannel, requestType: request.requestType, wantReply: request.wantReply, data: request.data };
}
