/**
 * Payloads of TCP/IP port forwarding (RFC 4254 §7), declared as data: the `tcpip-forward` and
 * `cancel-tcpip-forward` global requests, the port in the success reply, and the type-specific
 * CHANNEL_OPEN fields of `forwarded-tcpip` and `direct-tcpip`. Only data: listening, connecting
 * and piping belong to the service.
 */
import { decodeFields, encodeFields, optional, uint32, utf8, type MessageValue } from '../codec/schema.js';

/** RFC 4254 §7 request and channel type names. */
export const ForwardingType = {
  tcpipForward: 'tcpip-forward',
  cancelTcpipForward: 'cancel-tcpip-forward',
  forwardedTcpip: 'forwarded-tcpip',
  directTcpip: 'direct-tcpip',
} as const;

/** RFC 4254 §7.1 */
export const TcpipForwardRequest = { addressToBind: utf8, portToBind: uint32 };
export type TcpipForwardRequest = MessageValue<typeof TcpipForwardRequest>;

/** RFC 4254 §7.1: same fields as `tcpip-forward`. */
export const CancelTcpipForwardRequest = TcpipForwardRequest;
export type CancelTcpipForwardRequest = TcpipForwardRequest;

/**
 * RFC 4254 §7.1: SUCCESS data of `tcpip-forward`. The RFC sends the port only when 0 was requested;
 * the reference library always sends it (reference notes §10 item 8), so reading treats it as optional.
 */
export const TcpipForwardReply = { portBound: optional(uint32) };
export type TcpipForwardReply = MessageValue<typeof TcpipForwardReply>;

/** RFC 4254 §7.2 */
export const ForwardedTcpipOpen = {
  connectedAddress: utf8,
  connectedPort: uint32,
  originatorAddress: utf8,
  originatorPort: uint32,
};
export type ForwardedTcpipOpen = MessageValue<typeof ForwardedTcpipOpen>;

/** RFC 4254 §7.2 */
export const DirectTcpipOpen = {
  hostToConnect: utf8,
  portToConnect: uint32,
  originatorAddress: utf8,
  originatorPort: uint32,
};
export type DirectTcpipOpen = MessageValue<typeof DirectTcpipOpen>;

/** RFC 4254 §7.1 */
export function encodeTcpipForward(value: TcpipForwardRequest): Uint8Array {
  return encodeFields(TcpipForwardRequest, value);
}

/**
 * RFC 4254 §7.1
 * @throws ProtocolError naming the field when the data is malformed
 */
export function decodeTcpipForward(data: Uint8Array): TcpipForwardRequest {
  return decodeFields('TcpipForwardRequest', TcpipForwardRequest, data);
}

/** RFC 4254 §7.1 */
export function encodeTcpipForwardReply(portBound: number): Uint8Array {
  return encodeFields(TcpipForwardReply, { portBound });
}

/**
 * RFC 4254 §7.1: the bound port, or undefined when the peer sent none.
 * @throws ProtocolError when more than a port follows
 */
export function decodeTcpipForwardReply(data: Uint8Array): number | undefined {
  return decodeFields('TcpipForwardReply', TcpipForwardReply, data).portBound;
}

/** RFC 4254 §7.2 */
export function encodeForwardedTcpip(value: ForwardedTcpipOpen): Uint8Array {
  return encodeFields(ForwardedTcpipOpen, value);
}

/**
 * RFC 4254 §7.2
 * @throws ProtocolError naming the field when the data is malformed
 */
export function decodeForwardedTcpip(data: Uint8Array): ForwardedTcpipOpen {
  return decodeFields('ForwardedTcpipOpen', ForwardedTcpipOpen, data);
}

/** RFC 4254 §7.2 */
export function encodeDirectTcpip(value: DirectTcpipOpen): Uint8Array {
  return encodeFields(DirectTcpipOpen, value);
}

/**
 * RFC 4254 §7.2
 * @throws ProtocolError naming the field when the data is malformed
 */
export function decodeDirectTcpip(data: Uint8Array): DirectTcpipOpen {
  return decodeFields('DirectTcpipOpen', DirectTcpipOpen, data);
}
