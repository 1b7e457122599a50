/**
 * The forwarding events an application sees: a `tcpip-forward` request to authorize (RFC 4254
 * §7.1), raised to `session.onRequest`, and a `direct-tcpip` or `forwarded-tcpip` channel open
 * (§7.2), raised to `session.onChannelOpening` with its fields decoded; and their Unix-socket
 * counterparts (OpenSSH PROTOCOL §2.4). Data only.
 */
import { ChannelOpeningEvent, RequestEvent } from '../mux/events.js';
import type { Channel } from '../mux/channel.js';

/**
 * RFC 4254 §7.1: the peer asks us to listen and forward connections back. Refused unless the
 * application's `session.onRequest` returns true for it.
 */
export class PortForwardRequestEvent extends RequestEvent {
  /** The address to bind as the peer sent it ("", "localhost", "127.0.0.1", ...). */
  readonly addressToBind: string;
  /** The port to bind; 0 lets this side choose. */
  readonly portToBind: number;

  constructor(event: RequestEvent, request: { addressToBind: string; portToBind: number }) {
    super(event.requestType, event.wantReply, event.data);
    this.addressToBind = request.addressToBind;
    this.portToBind = request.portToBind;
  }
}

/** The decoded fields of a forwarding channel open (RFC 4254 §7.2). */
export interface ForwardChannelFields {
  /** direct-tcpip: the host to connect; forwarded-tcpip: the address that was connected. */
  host: string;
  /** direct-tcpip: the port to connect; forwarded-tcpip: the port that was connected. */
  port: number;
  originatorAddress: string;
  originatorPort: number;
}

/**
 * RFC 4254 §7.2: the peer opens a `direct-tcpip` or `forwarded-tcpip` channel; the application's
 * `session.onChannelOpening` may `reject()` it before any TCP connection is made.
 */
export class PortForwardChannelOpeningEvent extends ChannelOpeningEvent implements ForwardChannelFields {
  readonly host: string;
  readonly port: number;
  readonly originatorAddress: string;
  readonly originatorPort: number;

  constructor(channel: Channel, data: Uint8Array, fields: ForwardChannelFields) {
    super(channel, data);
    this.host = fields.host;
    this.port = fields.port;
    this.originatorAddress = fields.originatorAddress;
    this.originatorPort = fields.originatorPort;
  }
}

/**
 * OpenSSH PROTOCOL §2.4: the peer asks us to listen on a Unix-domain socket path and forward its
 * connections back (`ssh -R /remote.sock:...`). Refused unless `session.onRequest` returns true.
 */
export class SocketForwardRequestEvent extends RequestEvent {
  /** The socket path to listen on, as the peer sent it. */
  readonly socketPath: string;

  constructor(event: RequestEvent, socketPath: string) {
    super(event.requestType, event.wantReply, event.data);
    this.socketPath = socketPath;
  }
}

/**
 * OpenSSH PROTOCOL §2.4: the peer opens a `direct-streamlocal@openssh.com` or
 * `forwarded-streamlocal@openssh.com` channel; `session.onChannelOpening` may `reject()` it before
 * any socket is connected.
 */
export class SocketForwardChannelOpeningEvent extends ChannelOpeningEvent {
  /** direct-streamlocal: the path to connect; forwarded-streamlocal: the path that was connected. */
  readonly socketPath: string;

  constructor(channel: Channel, data: Uint8Array, socketPath: string) {
    super(channel, data);
    this.socketPath = socketPath;
  }
}
