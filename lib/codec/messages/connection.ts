/**
 * Connection-protocol messages 80-100 (RFC 4254 §4-5) declared as data, plus hand-written encode
 * and decode for the hot path (CHANNEL_DATA, CHANNEL_EXTENDED_DATA, CHANNEL_WINDOW_ADJUST), which a
 * spec checks against the generic codec. Request-specific payloads (pty-req, tcpip-forward, ...)
 * live with the layer that understands them (session/, forwarding/), not here.
 */
import { ProtocolError } from '../../errors.js';
import { boolean, decode, encode, message, rest, string, uint32, utf8, type MessageOf } from '../schema.js';

/** RFC 4254 §4 */
export const GlobalRequest = message(80, 'GlobalRequest', {
  requestName: utf8,
  wantReply: boolean,
  data: rest,
});
export type GlobalRequest = MessageOf<typeof GlobalRequest>;

/** RFC 4254 §4: `data` holds request-specific response data (e.g. the bound port of tcpip-forward). */
export const RequestSuccess = message(81, 'RequestSuccess', { data: rest });
export type RequestSuccess = MessageOf<typeof RequestSuccess>;

/** RFC 4254 §4 */
export const RequestFailure = message(82, 'RequestFailure', {});
export type RequestFailure = MessageOf<typeof RequestFailure>;

/** RFC 4254 §5.1: `data` holds channel-type-specific fields (e.g. direct-tcpip host and port). */
export const ChannelOpen = message(90, 'ChannelOpen', {
  channelType: utf8,
  senderChannel: uint32,
  initialWindowSize: uint32,
  maximumPacketSize: uint32,
  data: rest,
});
export type ChannelOpen = MessageOf<typeof ChannelOpen>;

/** RFC 4254 §5.1 */
export const ChannelOpenConfirmation = message(91, 'ChannelOpenConfirmation', {
  recipientChannel: uint32,
  senderChannel: uint32,
  initialWindowSize: uint32,
  maximumPacketSize: uint32,
  data: rest,
});
export type ChannelOpenConfirmation = MessageOf<typeof ChannelOpenConfirmation>;

/** RFC 4254 §5.1 */
export const ChannelOpenFailure = message(92, 'ChannelOpenFailure', {
  recipientChannel: uint32,
  reasonCode: uint32,
  description: utf8,
  languageTag: utf8,
});
export type ChannelOpenFailure = MessageOf<typeof ChannelOpenFailure>;

/** RFC 4254 §5.2 */
export const ChannelWindowAdjust = message(93, 'ChannelWindowAdjust', {
  recipientChannel: uint32,
  bytesToAdd: uint32,
});
export type ChannelWindowAdjust = MessageOf<typeof ChannelWindowAdjust>;

/** RFC 4254 §5.2 */
export const ChannelData = message(94, 'ChannelData', {
  recipientChannel: uint32,
  data: string,
});
export type ChannelData = MessageOf<typeof ChannelData>;

/** RFC 4254 §5.2: data type code 1 is stderr. */
export const ChannelExtendedData = message(95, 'ChannelExtendedData', {
  recipientChannel: uint32,
  dataTypeCode: uint32,
  data: string,
});
export type ChannelExtendedData = MessageOf<typeof ChannelExtendedData>;

/** RFC 4254 §5.3 */
export const ChannelEof = message(96, 'ChannelEof', { recipientChannel: uint32 });
export type ChannelEof = MessageOf<typeof ChannelEof>;

/** RFC 4254 §5.3 */
export const ChannelClose = message(97, 'ChannelClose', { recipientChannel: uint32 });
export type ChannelClose = MessageOf<typeof ChannelClose>;

/** RFC 4254 §5.4: `data` holds request-specific fields (see lib/session/requests.ts). */
export const ChannelRequest = message(98, 'ChannelRequest', {
  recipientChannel: uint32,
  requestType: utf8,
  wantReply: boolean,
  data: rest,
});
export type ChannelRequest = MessageOf<typeof ChannelRequest>;

/** RFC 4254 §5.4 */
export const ChannelSuccess = message(99, 'ChannelSuccess', { recipientChannel: uint32 });
export type ChannelSuccess = MessageOf<typeof ChannelSuccess>;

/** RFC 4254 §5.4 */
export const ChannelFailure = message(100, 'ChannelFailure', { recipientChannel: uint32 });
export type ChannelFailure = MessageOf<typeof ChannelFailure>;

/** Every connection-protocol message, by number. */
export const connectionMessages = [
  GlobalRequest,
  RequestSuccess,
  RequestFailure,
  ChannelOpen,
  ChannelOpenConfirmation,
  ChannelOpenFailure,
  ChannelWindowAdjust,
  ChannelData,
  ChannelExtendedData,
  ChannelEof,
  ChannelClose,
  ChannelRequest,
  ChannelSuccess,
  ChannelFailure,
] as const;

/** Bytes before the data in CHANNEL_DATA: type, recipient channel, data length. */
export const channelDataHeaderLength = 9;
/** Bytes before the data in CHANNEL_EXTENDED_DATA: type, recipient channel, type code, data length. */
export const channelExtendedDataHeaderLength = 13;

/**
 * A packet buffer that is about to be filled completely: skips the zero-fill where Node's Buffer
 * exists (the fill costs as much as the copy of the data). A plain Uint8Array over its own memory.
 */
export const allocate: (n: number) => Uint8Array =
  typeof Buffer === 'function'
    ? (n) => new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n)
    : (n) => new Uint8Array(n);

function writeUint32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

function readUint32(p: Uint8Array, at: number): number {
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}

/** RFC 4254 §5.2: CHANNEL_DATA encoded into one buffer sized up front (one copy of `data`). */
export function encodeChannelData(recipientChannel: number, data: Uint8Array): Uint8Array {
  const out = allocate(channelDataHeaderLength + data.length);
  out[0] = 94;
  writeUint32(out, 1, recipientChannel);
  writeUint32(out, 5, data.length);
  out.set(data, channelDataHeaderLength);
  return out;
}

/**
 * RFC 4254 §5.2: fills the header of a CHANNEL_DATA packet whose data was written in place at
 * offset 9 of `packet` (coalesced writes), and returns the packet trimmed to `dataLength`.
 */
export function sealChannelData(packet: Uint8Array, recipientChannel: number, dataLength: number): Uint8Array {
  packet[0] = 94;
  writeUint32(packet, 1, recipientChannel);
  writeUint32(packet, 5, dataLength);
  return packet.subarray(0, channelDataHeaderLength + dataLength);
}

/** RFC 4254 §5.2: CHANNEL_EXTENDED_DATA encoded into one buffer. */
export function encodeChannelExtendedData(recipientChannel: number, dataTypeCode: number, data: Uint8Array): Uint8Array {
  const out = allocate(channelExtendedDataHeaderLength + data.length);
  out[0] = 95;
  writeUint32(out, 1, recipientChannel);
  writeUint32(out, 5, dataTypeCode);
  writeUint32(out, 9, data.length);
  out.set(data, channelExtendedDataHeaderLength);
  return out;
}

/** RFC 4254 §5.2: CHANNEL_WINDOW_ADJUST. */
export function encodeChannelWindowAdjust(recipientChannel: number, bytesToAdd: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = 93;
  writeUint32(out, 1, recipientChannel);
  writeUint32(out, 5, bytesToAdd);
  return out;
}

function truncated(name: string, field: string, offset: number, length: number): ProtocolError {
  return new ProtocolError(`${name}.${field}: unexpected end of payload at offset ${offset} (length ${length})`);
}

/** RFC 4254 §5.2: decodes CHANNEL_DATA; `data` is a view into `payload`, not a copy. */
export function decodeChannelData(payload: Uint8Array): ChannelData {
  const n = payload.length;
  if (n < 5) throw truncated('ChannelData', 'recipientChannel', 1, n);
  if (n < 9) throw truncated('ChannelData', 'data', 5, n);
  const length = readUint32(payload, 5);
  if (length !== n - 9) {
    throw new ProtocolError(`ChannelData.data: length ${length} does not match the ${n - 9} bytes at offset 9`);
  }
  return { recipientChannel: readUint32(payload, 1), data: payload.subarray(9) };
}

/** RFC 4254 §5.2: decodes CHANNEL_EXTENDED_DATA; `data` is a view into `payload`. */
export function decodeChannelExtendedData(payload: Uint8Array): ChannelExtendedData {
  const n = payload.length;
  if (n < 5) throw truncated('ChannelExtendedData', 'recipientChannel', 1, n);
  if (n < 9) throw truncated('ChannelExtendedData', 'dataTypeCode', 5, n);
  if (n < 13) throw truncated('ChannelExtendedData', 'data', 9, n);
  const length = readUint32(payload, 9);
  if (length !== n - 13) {
    throw new ProtocolError(`ChannelExtendedData.data: length ${length} does not match the ${n - 13} bytes at offset 13`);
  }
  return { recipientChannel: readUint32(payload, 1), dataTypeCode: readUint32(payload, 5), data: payload.subarray(13) };
}

/** RFC 4254 §5.2: decodes CHANNEL_WINDOW_ADJUST. */
export function decodeChannelWindowAdjust(payload: Uint8Array): ChannelWindowAdjust {
  const n = payload.length;
  if (n < 5) throw truncated('ChannelWindowAdjust', 'recipientChannel', 1, n);
  if (n < 9) throw truncated('ChannelWindowAdjust', 'bytesToAdd', 5, n);
  if (n > 9) throw new ProtocolError(`ChannelWindowAdjust: ${n - 9} trailing bytes at offset 9`);
  return { recipientChannel: readUint32(payload, 1), bytesToAdd: readUint32(payload, 5) };
}

/** The recipient channel of any message 91-100 (offset 1), for routing before a full decode. */
export function readRecipientChannel(payload: Uint8Array): number {
  if (payload.length < 5) throw truncated(`Message ${payload[0]}`, 'recipientChannel', 1, payload.length);
  return readUint32(payload, 1);
}

/*
 * CHANNEL_OPEN and its confirmation by hand as well: a burst of opens (a multiplexing client, a
 * forwarder accepting many connections) spends a generic encode and decode on each of them. The
 * decoders take the common shape (an ASCII channel type) directly and leave anything else, bad
 * input included, to the generic codec and its errors.
 */

const asciiTypeLimit = 64;

/** RFC 4254 §5.1: CHANNEL_OPEN encoded into one buffer sized up front. */
export function encodeChannelOpen(m: ChannelOpen): Uint8Array {
  const type = m.channelType;
  let ascii = type.length <= asciiTypeLimit;
  for (let i = 0; ascii && i < type.length; i++) ascii = type.charCodeAt(i) < 0x80;
  if (!ascii) return encode(ChannelOpen, m);
  const at = 5 + type.length;
  const out = new Uint8Array(at + 12 + m.data.length);
  out[0] = 90;
  writeUint32(out, 1, type.length);
  for (let i = 0; i < type.length; i++) out[5 + i] = type.charCodeAt(i);
  writeUint32(out, at, m.senderChannel);
  writeUint32(out, at + 4, m.initialWindowSize);
  writeUint32(out, at + 8, m.maximumPacketSize);
  out.set(m.data, at + 12);
  return out;
}

/** RFC 4254 §5.1: decodes CHANNEL_OPEN; `data` is a view into `payload`. */
export function decodeChannelOpen(payload: Uint8Array): ChannelOpen {
  const n = payload.length;
  const typeLength = n >= 5 ? readUint32(payload, 1) : -1;
  if (payload[0] !== 90 || typeLength < 0 || typeLength > asciiTypeLimit || 5 + typeLength + 12 > n) return decode(ChannelOpen, payload);
  let channelType = '';
  for (let i = 5; i < 5 + typeLength; i++) {
    const c = payload[i]!;
    if (c >= 0x80) return decode(ChannelOpen, payload);
    channelType += String.fromCharCode(c);
  }
  const at = 5 + typeLength;
  return {
    channelType,
    senderChannel: readUint32(payload, at),
    initialWindowSize: readUint32(payload, at + 4),
    maximumPacketSize: readUint32(payload, at + 8),
    data: payload.subarray(at + 12),
  };
}

/** RFC 4254 §5.1: CHANNEL_OPEN_CONFIRMATION. */
export function encodeChannelOpenConfirmation(m: ChannelOpenConfirmation): Uint8Array {
  const out = new Uint8Array(17 + m.data.length);
  out[0] = 91;
  writeUint32(out, 1, m.recipientChannel);
  writeUint32(out, 5, m.senderChannel);
  writeUint32(out, 9, m.initialWindowSize);
  writeUint32(out, 13, m.maximumPacketSize);
  out.set(m.data, 17);
  return out;
}

/** RFC 4254 §5.1: decodes CHANNEL_OPEN_CONFIRMATION; `data` is a view into `payload`. */
export function decodeChannelOpenConfirmation(payload: Uint8Array): ChannelOpenConfirmation {
  if (payload[0] !== 91 || payload.length < 17) return decode(ChannelOpenConfirmation, payload);
  return {
    recipientChannel: readUint32(payload, 1),
    senderChannel: readUint32(payload, 5),
    initialWindowSize: readUint32(payload, 9),
    maximumPacketSize: readUint32(payload, 13),
    data: payload.subarray(17),
  };
}
