/**
 * Transport-layer messages (RFC 4253 §11-12, RFC 8308). Kex-method messages 30-49 live with
 * their kex method; this file holds only the numbers every state shares.
 */
import { boolean, bytes, message, nameList, optional, string, uint32, utf8 } from '../schema.js';

/** RFC 4253 §12 and RFC 4252/4254 message numbers. */
export const MessageType = {
  Disconnect: 1,
  Ignore: 2,
  Unimplemented: 3,
  Debug: 4,
  ServiceRequest: 5,
  ServiceAccept: 6,
  ExtInfo: 7,
  KexInit: 20,
  NewKeys: 21,
  KexMethodFirst: 30,
  KexMethodLast: 49,
  UserauthRequest: 50,
  UserauthFailure: 51,
  UserauthSuccess: 52,
  UserauthBanner: 53,
  UserauthMethodFirst: 60,
  UserauthMethodLast: 79,
  GlobalRequest: 80,
  RequestSuccess: 81,
  RequestFailure: 82,
  ChannelOpen: 90,
  ChannelOpenConfirmation: 91,
  ChannelOpenFailure: 92,
  ChannelWindowAdjust: 93,
  ChannelData: 94,
  ChannelExtendedData: 95,
  ChannelEof: 96,
  ChannelClose: 97,
  ChannelRequest: 98,
  ChannelSuccess: 99,
  ChannelFailure: 100,
} as const;

/** RFC 4253 §11.1 */
export const Disconnect = message(1, 'Disconnect', {
  reasonCode: uint32,
  description: utf8,
  // Required by the RFC, yet @microsoft/dev-tunnels-ssh omits it when empty: the reason must still be read.
  languageTag: optional(utf8),
});

/** RFC 4253 §11.2 */
export const Ignore = message(2, 'Ignore', { data: string });

/** RFC 4253 §11.4 */
export const Unimplemented = message(3, 'Unimplemented', { packetSequenceNumber: uint32 });

/** RFC 4253 §11.3 */
export const Debug = message(4, 'Debug', { alwaysDisplay: boolean, message: utf8, languageTag: utf8 });

/** RFC 4253 §10 */
export const ServiceRequest = message(5, 'ServiceRequest', { serviceName: utf8 });

/** RFC 4253 §10 */
export const ServiceAccept = message(6, 'ServiceAccept', { serviceName: utf8 });

/** RFC 4253 §7.1 */
export const KexInit = message(20, 'KexInit', {
  cookie: bytes(16),
  kexAlgorithms: nameList,
  serverHostKeyAlgorithms: nameList,
  encryptionAlgorithmsClientToServer: nameList,
  encryptionAlgorithmsServerToClient: nameList,
  macAlgorithmsClientToServer: nameList,
  macAlgorithmsServerToClient: nameList,
  compressionAlgorithmsClientToServer: nameList,
  compressionAlgorithmsServerToClient: nameList,
  languagesClientToServer: nameList,
  languagesServerToClient: nameList,
  firstKexPacketFollows: boolean,
  reserved: uint32,
});

/** RFC 4253 §7.3 */
export const NewKeys = message(21, 'NewKeys', {});
