/**
 * Payloads of Unix-domain socket forwarding, OpenSSH PROTOCOL §2.4: the
 * `streamlocal-forward@openssh.com` and `cancel-streamlocal-forward@openssh.com` global requests
 * and the type-specific CHANNEL_OPEN fields of `direct-streamlocal@openssh.com` and
 * `forwarded-streamlocal@openssh.com`. Only data: listening and connecting belong to the service.
 */
import { decodeFields, encodeFields, optional, uint32, utf8, type MessageValue } from '../codec/schema.js';

/** OpenSSH PROTOCOL §2.4 request and channel type names. */
export const StreamLocalType = {
  streamLocalForward: 'streamlocal-forward@openssh.com',
  cancelStreamLocalForward: 'cancel-streamlocal-forward@openssh.com',
  forwardedStreamLocal: 'forwarded-streamlocal@openssh.com',
  directStreamLocal: 'direct-streamlocal@openssh.com',
} as const;

/** OpenSSH PROTOCOL §2.4: the body of `streamlocal-forward@openssh.com` and its cancel request. */
export const StreamLocalForwardRequest = { socketPath: utf8 };
export type StreamLocalForwardRequest = MessageValue<typeof StreamLocalForwardRequest>;

/**
 * OpenSSH PROTOCOL §2.4: `direct-streamlocal@openssh.com` open fields. The reserved fields are
 * sent empty and zero; reading accepts them absent, as some clients stop after the path.
 */
export const DirectStreamLocalOpen = { socketPath: utf8, reserved: optional(utf8), reservedPort: optional(uint32) };
export type DirectStreamLocalOpen = MessageValue<typeof DirectStreamLocalOpen>;

/** OpenSSH PROTOCOL §2.4: `forwarded-streamlocal@openssh.com` open fields (the path that was connected). */
export const ForwardedStreamLocalOpen = { socketPath: utf8, reserved: optional(utf8) };
export type ForwardedStreamLocalOpen = MessageValue<typeof ForwardedStreamLocalOpen>;

/** OpenSSH PROTOCOL §2.4 */
export function encodeStreamLocalForward(socketPath: string): Uint8Array {
  return encodeFields(StreamLocalForwardRequest, { socketPath });
}

/**
 * OpenSSH PROTOCOL §2.4
 * @throws ProtocolError naming the field when the data is malformed
 */
export function decodeStreamLocalForward(data: Uint8Array): StreamLocalForwardRequest {
  return decodeFields('StreamLocalForwardRequest', StreamLocalForwardRequest, data);
}

/** OpenSSH PROTOCOL §2.4 */
export function encodeDirectStreamLocal(socketPath: string): Uint8Array {
  return encodeFields(DirectStreamLocalOpen, { socketPath, reserved: '', reservedPort: 0 });
}

/**
 * OpenSSH PROTOCOL §2.4
 * @throws ProtocolError naming the field when the data is malformed
 */
export function decodeDirectStreamLocal(data: Uint8Array): DirectStreamLocalOpen {
  return decodeFields('DirectStreamLocalOpen', DirectStreamLocalOpen, data);
}

/** OpenSSH PROTOCOL §2.4 */
export function encodeForwardedStreamLocal(socketPath: string): Uint8Array {
  return encodeFields(ForwardedStreamLocalOpen, { socketPath, reserved: '' });
}

/**
 * OpenSSH PROTOCOL §2.4
 * @throws ProtocolError naming the field when the data is malformed
 */
export function decodeForwardedStreamLocal(data: Uint8Array): ForwardedStreamLocalOpen {
  return decodeFields('ForwardedStreamLocalOpen', ForwardedStreamLocalOpen, data);
}
