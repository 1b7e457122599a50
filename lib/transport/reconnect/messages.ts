/**
 * Wire forms of the Microsoft session-reconnect messages (notes §2.3.1, §2.3.5): the enable
 * request, the reconnect request (a global request) and its reconnect-specific SUCCESS and
 * FAILURE replies. Codec only; what they cause is the session's business.
 */
import { SshReader, SshWriter } from '../../codec/wire.js';
import { MessageType } from '../../codec/messages/transport.js';

/** Global request type that switches the sender's outbound trailers on. */
export const ENABLE_RECONNECT_REQUEST = 'enable-session-reconnect@microsoft.com';
/** Global request type of the reconnect handshake. */
export const RECONNECT_REQUEST = 'session-reconnect@microsoft.com';

/** The client's reconnect request. */
export interface ReconnectRequest {
  readonly clientReconnectToken: Uint8Array;
  /** Last sequence the client received on the old connection. */
  readonly lastReceivedSequence: number;
}

/** The server's SUCCESS reply to a reconnect request. */
export interface ReconnectResponse {
  readonly serverReconnectToken: Uint8Array;
  /** Last sequence the server received on the old connection. */
  readonly lastReceivedSequence: number;
}

/** The server's FAILURE reply to a reconnect request. */
export interface ReconnectFailure {
  readonly reason: number;
  readonly description: string;
}

/** Notes §2.3.1: GLOBAL_REQUEST `enable-session-reconnect@microsoft.com`, want_reply false, no data. */
export function encodeEnableReconnect(): Uint8Array {
  return new SshWriter(64).byte(MessageType.GlobalRequest).string(ENABLE_RECONNECT_REQUEST).boolean(false).toBytes();
}

/** Notes §2.3.1: whether `payload` is the enable request (checked on received global requests). */
export function isEnableReconnect(payload: Uint8Array): boolean {
  return globalRequestType(payload) === ENABLE_RECONNECT_REQUEST;
}

/** The request type of a GLOBAL_REQUEST payload, or undefined when it is not one (or malformed). */
export function globalRequestType(payload: Uint8Array): string | undefined {
  if (payload[0] !== MessageType.GlobalRequest || payload.length < 5) return undefined;
  const length = new DataView(payload.buffer, payload.byteOffset + 1, 4).getUint32(0);
  if (5 + length > payload.length) return undefined;
  return new TextDecoder().decode(payload.subarray(5, 5 + length));
}

/** Notes §2.3.5: GLOBAL_REQUEST `session-reconnect@microsoft.com`, want_reply true. */
export function encodeReconnectRequest(request: ReconnectRequest): Uint8Array {
  return new SshWriter(128)
    .byte(MessageType.GlobalRequest)
    .string(RECONNECT_REQUEST)
    .boolean(true)
    .string(request.clientReconnectToken)
    .uint64(BigInt(request.lastReceivedSequence))
    .toBytes();
}

/** Notes §2.3.5 */
export function decodeReconnectRequest(payload: Uint8Array): ReconnectRequest {
  const r = new SshReader(payload, 1);
  r.context = 'SessionReconnectRequest';
  r.string();
  r.boolean();
  const clientReconnectToken = r.string().slice();
  const lastReceivedSequence = Number(r.uint64());
  r.end();
  return { clientReconnectToken, lastReceivedSequence };
}

/** Notes §2.3.5: REQUEST_SUCCESS with the server's token and last received sequence. */
export function encodeReconnectResponse(response: ReconnectResponse): Uint8Array {
  return new SshWriter(128)
    .byte(MessageType.RequestSuccess)
    .string(response.serverReconnectToken)
    .uint64(BigInt(response.lastReceivedSequence))
    .toBytes();
}

/** Notes §2.3.5 */
export function decodeReconnectResponse(payload: Uint8Array): ReconnectResponse {
  const r = new SshReader(payload, 1);
  r.context = 'SessionReconnectResponse';
  const serverReconnectToken = r.string().slice();
  const lastReceivedSequence = Number(r.uint64());
  r.end();
  return { serverReconnectToken, lastReceivedSequence };
}

/** Notes §2.3.5: REQUEST_FAILURE with a reason, a description and the language tag `en`. */
export function encodeReconnectFailure(failure: ReconnectFailure): Uint8Array {
  return new SshWriter(256)
    .byte(MessageType.RequestFailure)
    .uint32(failure.reason)
    .string(failure.description)
    .string('en')
    .toBytes();
}

/** Notes §2.3.5: a bare FAILURE (no payload) is an unknown server failure. */
export function decodeReconnectFailure(payload: Uint8Array): ReconnectFailure {
  if (payload.length === 1) return { reason: 1, description: 'The server refused the reconnect request' };
  const r = new SshReader(payload, 1);
  r.context = 'SessionReconnectFailure';
  const reason = r.uint32();
  const description = r.remaining > 0 ? r.utf8() : '';
  return { reason, description };
}
