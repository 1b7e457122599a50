/**
 * The events the connection layer hands to application handlers and services: a global request
 * (RFC 4254 §4), a channel request (§5.4, with the RFC 4254 §6 fields decoded) and an incoming
 * channel open (§5.1) that a handler may accept or reject. Data only; dispatch lives in
 * connection.ts and channel.ts.
 */
import { ChannelOpenFailureReason } from '../errors.js';
import { decodeSessionRequest, type SessionRequestFields } from '../codec/messages/session-requests.js';
import type { Channel } from './channel.js';

/** What a request handler returns: truthy = SUCCESS, falsy or nothing = FAILURE. */
export type RequestResult = boolean | void | undefined;

/** A request handler; may be async. A throw counts as FAILURE. */
export type RequestHandler<E> = (e: E) => RequestResult | Promise<RequestResult>;

/** RFC 4254 §4: a global (session) request received from the peer. */
export class RequestEvent {
  /** The request name, e.g. "tcpip-forward". */
  readonly requestType: string;
  /** Whether the peer waits for SUCCESS/FAILURE. */
  readonly wantReply: boolean;
  /** Request-specific bytes after `want reply`. */
  readonly data: Uint8Array;
  /** Request-specific response data sent with SUCCESS (e.g. the bound port of tcpip-forward). */
  responseData: Uint8Array | undefined;

  constructor(requestType: string, wantReply: boolean, data: Uint8Array) {
    this.requestType = requestType;
    this.wantReply = wantReply;
    this.data = data;
  }
}

/** RFC 4254 §5.4: a channel request received from the peer; RFC 4254 §6 fields are decoded. */
export class ChannelRequestEvent extends RequestEvent implements SessionRequestFields {
  /** The channel the request arrived on. */
  readonly channel: Channel;
  command?: string;
  subsystem?: string;
  pty?: SessionRequestFields['pty'];
  windowSize?: SessionRequestFields['windowSize'];
  name?: string;
  value?: string;
  signal?: string;
  x11?: SessionRequestFields['x11'];
  clientCanDo?: boolean;
  exitStatus?: number;
  exitSignal?: string;
  coreDumped?: boolean;
  errorMessage?: string;

  /** @throws ProtocolError when the data of a known RFC 4254 §6 request is malformed */
  constructor(channel: Channel, requestType: string, wantReply: boolean, data: Uint8Array) {
    super(requestType, wantReply, data);
    this.channel = channel;
    Object.assign(this, decodeSessionRequest(requestType, data));
  }
}

/** RFC 4254 §5.1: the peer asks to open a channel; the handler may reject it. */
export class ChannelOpeningEvent {
  /** The channel type, e.g. "session" or "direct-tcpip". */
  readonly channelType: string;
  /** Channel-type-specific bytes of CHANNEL_OPEN (e.g. direct-tcpip host and port). */
  readonly data: Uint8Array;
  /** The channel that will be confirmed unless the event is rejected. */
  readonly channel: Channel;
  /** Set by `reject()`; the reason sent in CHANNEL_OPEN_FAILURE. */
  failureReason: ChannelOpenFailureReason | undefined;
  /** Description sent with the failure. */
  failureDescription = '';
  /** Set by a service or handler that takes ownership: the channel is then not queued for acceptChannel. */
  handled = false;

  constructor(channel: Channel, data: Uint8Array) {
    this.channelType = channel.channelType;
    this.channel = channel;
    this.data = data;
  }

  /** Refuses the open (RFC 4254 §5.1 reason, administratively prohibited by default). */
  reject(reason: ChannelOpenFailureReason = ChannelOpenFailureReason.administrativelyProhibited, description = ''): void {
    this.failureReason = reason;
    this.failureDescription = description;
  }
}
