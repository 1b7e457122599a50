/**
 * ssh-streams/forwarding: TCP/IP port forwarding (RFC 4254 §7) and Unix-domain socket forwarding
 * (OpenSSH PROTOCOL §2.4). `addPortForwardingService(config)`
 * registers the service on a configuration (both sides need it); `getPortForwardingService(session)`
 * returns the service of an authenticated session, which forwards in both directions and serves
 * the peer's forwarding requests. Installs no backend (the entry points `index.node.ts` and
 * `index.browser.ts` do, then re-export this).
 */
import type { SessionConfig } from '../config.js';
import { SshError } from '../errors.js';
import { ForwardingType } from './messages.js';
import { StreamLocalType } from './stream-local-messages.js';
import { PortForwardingService, type ForwardingSession, type PortForwardingOptions } from './port-forwarding-service.js';

export { PortForwardingService } from './port-forwarding-service.js';
export type { ForwardingSession, PortForwardingOptions } from './port-forwarding-service.js';
export { DynamicPortForwarder, ForwardHandle, LocalPortForwarder, LocalSocketForwarder, RemotePortForwarder, RemoteSocketForwarder } from './forwarders.js';
export { SocksError } from './socks.js';
export type { ForwardEndpoint } from './forwarders.js';
export { PortForwardChannelOpeningEvent, PortForwardRequestEvent, SocketForwardChannelOpeningEvent, SocketForwardRequestEvent } from './events.js';
export type { ForwardChannelFields } from './events.js';
export {
  ForwardingType,
  TcpipForwardRequest,
  CancelTcpipForwardRequest,
  TcpipForwardReply,
  ForwardedTcpipOpen,
  DirectTcpipOpen,
  encodeTcpipForward,
  decodeTcpipForward,
  encodeTcpipForwardReply,
  decodeTcpipForwardReply,
  encodeForwardedTcpip,
  decodeForwardedTcpip,
  encodeDirectTcpip,
  decodeDirectTcpip,
} from './messages.js';
export {
  StreamLocalType,
  StreamLocalForwardRequest,
  DirectStreamLocalOpen,
  ForwardedStreamLocalOpen,
  encodeStreamLocalForward,
  decodeStreamLocalForward,
  encodeDirectStreamLocal,
  decodeDirectStreamLocal,
  encodeForwardedStreamLocal,
  decodeForwardedStreamLocal,
} from './stream-local-messages.js';

/** The name the service is registered under in `config.services`. */
export const portForwardingServiceName = 'port-forwarding';

/**
 * Registers port forwarding on a configuration, for sessions of either role. It is activated by
 * the peer's `tcpip-forward`, `cancel-tcpip-forward`, `direct-tcpip` and `forwarded-tcpip` (and
 * their `*streamlocal*@openssh.com` socket counterparts), or by `getPortForwardingService`.
 * Calling it again on the same configuration does nothing.
 *
 * Serving the peer: a `tcpip-forward` is refused unless `session.onRequest` returns true for its
 * PortForwardRequestEvent (a `streamlocal-forward@openssh.com` likewise, with a
 * SocketForwardRequestEvent); `direct-tcpip` and `direct-streamlocal@openssh.com` opens are served
 * unless `session.onChannelOpening` rejects the PortForwardChannelOpeningEvent or
 * SocketForwardChannelOpeningEvent (or `acceptDirectConnections` is false).
 * @param config the configuration sessions are created with
 * @param options how the peer's requests are served
 * @example
 * const config = SessionConfig.default();
 * addPortForwardingService(config);
 * server.onRequest = (e) => e instanceof PortForwardRequestEvent && e.portToBind >= 1024;
 */
export function addPortForwardingService(config: SessionConfig, options: PortForwardingOptions = {}): void {
  if (config.services.some((s) => s.name === portForwardingServiceName)) return;
  const factory = (session: ForwardingSession, serviceOptions: unknown): PortForwardingService =>
    new PortForwardingService(session, serviceOptions as PortForwardingOptions);
  config.addService(
    portForwardingServiceName,
    {
      sessionRequest: [
        ForwardingType.tcpipForward,
        ForwardingType.cancelTcpipForward,
        StreamLocalType.streamLocalForward,
        StreamLocalType.cancelStreamLocalForward,
      ],
      channelType: [
        ForwardingType.directTcpip,
        ForwardingType.forwardedTcpip,
        StreamLocalType.directStreamLocal,
        StreamLocalType.forwardedStreamLocal,
      ],
    },
    factory,
    options,
  );
}

/**
 * The port forwarding service of a session, activating it if needed.
 * @param session an authenticated ClientSession or ServerSession
 * @returns the session's service (one per session)
 * @throws SshError when the session is closed or not authenticated yet, or the service was not registered
 * @example
 * const pfs = getPortForwardingService(client);
 * const duplex = await pfs.streamToRemotePort('127.0.0.1', 8080);
 * const fwd = await pfs.forwardToRemotePort(3000, '127.0.0.1', 8080);
 * await pfs.forwardFromRemotePort(8080, '127.0.0.1', 3000);
 */
export function getPortForwardingService(session: ForwardingSession): PortForwardingService {
  const connection = session.connection;
  if (session.isClosed === true) throw new SshError('Port forwarding needs an open session: this one is closed');
  if (connection === undefined) throw new SshError('Port forwarding needs an authenticated session: call authenticate() first');
  const service = connection.activateService(portForwardingServiceName);
  if (!(service instanceof PortForwardingService)) {
    throw new SshError(`Service ${portForwardingServiceName} is not registered: call addPortForwardingService(config) first`);
  }
  return service;
}
