/**
 * The port forwarding service of one session (RFC 4254 §7), for both roles: it asks the peer to
 * listen (`tcpip-forward`) or to connect (`direct-tcpip`), and it serves the same requests from
 * the peer once the application authorizes them; Unix-domain sockets go through its
 * StreamLocalForwarding part (OpenSSH PROTOCOL §2.4). Owns the listeners and sockets it creates
 * and ends them with the session; the channels themselves belong to lib/mux.
 */
import type { Server, Socket } from 'node:net';
import { ChannelOpenFailureReason, SshError } from '../errors.js';
import type { Channel } from '../mux/channel.js';
import type { Connection } from '../mux/connection.js';
import type { ChannelOpeningEvent, RequestEvent, RequestHandler } from '../mux/events.js';
import type { ConnectionService } from '../mux/services.js';
import { PortForwardChannelOpeningEvent, PortForwardRequestEvent, type ForwardChannelFields } from './events.js';
import { DynamicPortForwarder, LocalPortForwarder, RemotePortForwarder, whilePending, type ForwardEndpoint, type LocalSocketForwarder, type RemoteSocketForwarder } from './forwarders.js';
import * as Msg from './messages.js';
import { pumpSocket, resetSocket } from './socket-pump.js';
import { serveSocksConnection } from './dynamic-forwarding.js';
import { StreamLocalForwarding } from './stream-local-forwarding.js';
import { bindAddress, boundPort, connectTcp, listenTcp, TcpRegistry } from './tcp-endpoints.js';

/** What the service needs of its session (a ClientSession or ServerSession). */
export interface ForwardingSession {
  readonly connection: Connection | undefined;
  /** True once the session ended (then no service is handed out). */
  readonly isClosed?: boolean;
  /** The session's role; `direct-tcpip` is served by default only on a server. */
  readonly isServer?: boolean;
  /** Authorizes `tcpip-forward`: it receives a PortForwardRequestEvent and must return true. */
  onRequest: RequestHandler<RequestEvent> | undefined;
  /** May reject forwarding channels: it receives a PortForwardChannelOpeningEvent. */
  onChannelOpening: ((e: ChannelOpeningEvent) => void | Promise<void>) | undefined;
}

/** Options of `addPortForwardingService`. */
export interface PortForwardingOptions {
  /**
   * Serve the peer's `direct-tcpip` opens by connecting to the host it names. Default: true on a
   * server, false on a client (as OpenSSH's client, so a hostile server cannot make the client
   * connect anywhere). `session.onChannelOpening` may still reject each one.
   */
  acceptDirectConnections?: boolean;
}

/** A port we listen on because the peer sent `tcpip-forward`. */
interface Listening {
  addressToBind: string;
  port: number;
  server: Server;
}

const loopback = '127.0.0.1';
const noop = (): void => {};

/** RFC 4254 §7: TCP/IP port forwarding over one session, both directions. */
export class PortForwardingService implements ConnectionService {
  readonly #session: ForwardingSession;
  readonly #acceptDirect: boolean;
  readonly #tcp = new TcpRegistry();
  readonly #listening = new Set<Listening>();
  readonly #remote = new Set<RemotePortForwarder>();
  readonly #local = new Set<LocalPortForwarder>();
  readonly #dynamic = new Set<DynamicPortForwarder>();
  readonly #requesting = new Set<Promise<unknown>>();
  readonly #streamLocal: StreamLocalForwarding;
  #disposed = false;

  constructor(session: ForwardingSession, options: PortForwardingOptions = {}) {
    this.#session = session;
    this.#acceptDirect = options.acceptDirectConnections ?? session.isServer === true;
    const isDisposed = (): boolean => this.#disposed;
    this.#streamLocal = new StreamLocalForwarding({
      session,
      acceptDirect: this.#acceptDirect,
      get isDisposed() {
        return isDisposed();
      },
      registry: this.#tcp,
      requireConnection: () => this.#requireConnection(),
      forwardAccepted: (socket, open) => this.#forwardAccepted(socket, open),
      connectChannel: (e, event, connect, target) => this.#connectChannel(e, event, connect, target),
    });
  }

  /** Forwarded connections still open (TCP and Unix sockets, both directions). */
  get connectionCount(): number {
    return this.#tcp.socketCount;
  }

  /** Listeners still open: ours (`forwardToRemotePort`, `forwardToRemoteSocket`) and those serving the peer's requests. */
  get listenerCount(): number {
    return this.#tcp.listenerCount;
  }

  /** Local listeners made by `forwardToRemotePort` and not closed. */
  get localForwarders(): readonly LocalPortForwarder[] {
    return [...this.#local];
  }

  /** Ports the peer listens on for us (`forwardFromRemotePort`) and not cancelled. */
  get remoteForwarders(): readonly RemotePortForwarder[] {
    return [...this.#remote];
  }

  /** Local socket listeners made by `forwardToRemoteSocket` and not closed. */
  get localSocketForwarders(): readonly LocalSocketForwarder[] {
    return this.#streamLocal.localForwarders;
  }

  /** Socket paths the peer listens on for us (`forwardFromRemoteSocket`) and not cancelled. */
  get remoteSocketForwarders(): readonly RemoteSocketForwarder[] {
    return this.#streamLocal.remoteForwarders;
  }

  /**
   * OpenSSH PROTOCOL §2.4: opens a `direct-streamlocal@openssh.com` channel; the peer connects it
   * to the Unix-domain socket `socketPath` (e.g. a remote `/var/run/docker.sock`).
   * @returns the channel, a Duplex carrying the socket's stream (close its writable to half-close)
   * @throws ChannelOpenError when the peer refuses or cannot connect (reason connectFailed)
   */
  streamToRemoteSocket(socketPath: string): Promise<Channel> {
    return this.#streamLocal.streamToRemoteSocket(socketPath);
  }

  /**
   * Listens on the local Unix-domain socket `localPath` and forwards each connection to the socket
   * `remotePath` as seen from the peer (`ssh -L localPath:remotePath`). An existing file at
   * `localPath` is not replaced: the call fails with EADDRINUSE.
   * @returns the listener; `close()` stops it and removes the socket file
   */
  forwardToRemoteSocket(localPath: string, remotePath: string): Promise<LocalSocketForwarder> {
    return this.#streamLocal.forwardToRemoteSocket(localPath, remotePath);
  }

  /**
   * OpenSSH PROTOCOL §2.4: asks the peer to listen on the Unix-domain socket `remotePath` and
   * forward its connections here, to the socket `localPath` (`ssh -R remotePath:localPath`).
   * @returns the forward; `close()` cancels it
   * @throws SshError when the peer refuses (not authorized, path in use)
   */
  forwardFromRemoteSocket(remotePath: string, localPath: string): Promise<RemoteSocketForwarder> {
    return this.#streamLocal.forwardFromRemoteSocket(remotePath, localPath);
  }

  /**
   * RFC 4254 §7.2: opens a `direct-tcpip` channel; the peer connects it to `host:port`.
   * @param host the host the peer connects to
   * @param port the port the peer connects to
   * @returns the channel, a Duplex carrying the TCP stream (close its writable to half-close)
   * @throws ChannelOpenError when the peer refuses or cannot connect (reason connectFailed)
   */
  async streamToRemotePort(host: string, port: number): Promise<Channel> {
    return this.#openDirect(host, port, { address: loopback, port: 0 });
  }

  /**
   * Listens locally and forwards each connection to `remoteHost:remotePort` as seen from the peer
   * (`ssh -L`).
   * @param local the local port (0 = any), or `{ address, port }` (address default 127.0.0.1)
   * @param remoteHost the host the peer connects to (default 127.0.0.1)
   * @param remotePort the port the peer connects to (default: the local port)
   * @returns the listener; `close()` stops it
   * @throws Error from node:net when the local port cannot be bound
   */
  async forwardToRemotePort(local: number | ForwardEndpoint, remoteHost = loopback, remotePort?: number): Promise<LocalPortForwarder> {
    const endpoint = typeof local === 'number' ? { port: local } : local;
    const targetPort = remotePort ?? endpoint.port;
    if (targetPort === 0) throw new SshError(`A remote port is needed to forward local port ${endpoint.port}`);
    this.#requireConnection();
    const localAddress = endpoint.address ?? loopback;
    const server = await this.#listenLocal(localAddress, endpoint.port, (socket, originator) => {
      this.#forwardAccepted(socket, () => this.#openDirect(remoteHost, targetPort, originator));
    });
    const forwarder: LocalPortForwarder = new LocalPortForwarder({
      server,
      localAddress,
      remoteHost,
      remotePort: targetPort,
      stop: () => {
        this.#local.delete(forwarder);
        return this.#tcp.closeServer(server);
      },
    });
    this.#local.add(forwarder);
    return forwarder;
  }

  /**
   * Dynamic forwarding (`ssh -D`): a local SOCKS4, 4a and 5 listener (no authentication, CONNECT)
   * whose connections become `direct-tcpip` channels to the target each client names; open
   * failures are answered with the matching SOCKS error.
   * @param local the local port (0 = any), or `{ address, port }`
   * @param localAddress the address to bind (default 127.0.0.1) when `local` is a port
   * @returns the listener: `localPort`, `close()`
   * @throws Error from node:net when the local port cannot be bound
   * @example const socks = await pfs.forwardDynamic(1080, '127.0.0.1'); // curl --socks5-hostname 127.0.0.1:1080 ...
   */
  async forwardDynamic(local: number | ForwardEndpoint, localAddress = loopback): Promise<DynamicPortForwarder> {
    const endpoint = typeof local === 'number' ? { port: local, address: localAddress } : local;
    this.#requireConnection();
    const address = endpoint.address ?? loopback;
    const server = await this.#listenLocal(address, endpoint.port, (socket, originator) => {
      this.#tcp.addSocket(socket);
      socket.on('error', noop);
      void serveSocksConnection(socket, (target) => this.#openDirect(target.host, target.port, originator));
    });
    const forwarder: DynamicPortForwarder = new DynamicPortForwarder({
      server,
      localAddress: address,
      stop: () => {
        this.#dynamic.delete(forwarder);
        return this.#tcp.closeServer(server);
      },
    });
    this.#dynamic.add(forwarder);
    return forwarder;
  }

  /**
   * RFC 4254 §7.1: asks the peer to listen on `remote` and forward its connections here, to
   * `localHost:localPort` (`ssh -R`).
   * @param remote the port the peer listens on (0 = the peer chooses), or `{ address, port }`
   *   (address to bind default 127.0.0.1; "" means every address)
   * @param localHost where this side connects forwarded connections (default 127.0.0.1)
   * @param localPort the local port (default: the remote port)
   * @returns the forward; `remotePort` is the port the peer bound, `close()` cancels it
   * @throws SshError when the peer refuses (not authorized, port in use)
   */
  async forwardFromRemotePort(remote: number | ForwardEndpoint, localHost = loopback, localPort?: number): Promise<RemotePortForwarder> {
    const endpoint = typeof remote === 'number' ? { port: remote } : remote;
    const addressToBind = endpoint.address ?? loopback;
    if (endpoint.port === 0 && localPort === undefined) {
      throw new SshError(`A local port is needed to forward remote port 0 of ${addressToBind}`);
    }
    const connection = this.#requireConnection();
    const request = { addressToBind, portToBind: endpoint.port };
    const registered = (async () => {
      const reply = await connection.requestWithReply({
        requestType: Msg.ForwardingType.tcpipForward,
        wantReply: true,
        data: Msg.encodeTcpipForward(request),
      });
      if (!reply.success) throw new SshError(`The peer refused to forward ${addressToBind}:${endpoint.port}`);
      const portBound = endpoint.port !== 0 ? endpoint.port : Msg.decodeTcpipForwardReply(reply.data);
      if (portBound === undefined) throw new SshError(`The peer bound ${addressToBind}:0 without saying which port`);
      const forwarder: RemotePortForwarder = new RemotePortForwarder({
        remoteAddress: addressToBind,
        remotePort: portBound,
        localHost,
        localPort: localPort ?? endpoint.port,
        cancel: () => this.#cancelRemote(forwarder),
      });
      if (this.#disposed) forwarder.markClosed();
      else this.#remote.add(forwarder);
      return forwarder;
    })();
    return whilePending(this.#requesting, registered);
  }

  /** Routes the peer's `tcpip-forward` and `cancel-tcpip-forward` requests, and their socket counterparts. */
  onSessionRequest(e: RequestEvent): Promise<boolean> | boolean {
    if (this.#streamLocal.servesRequest(e.requestType)) return this.#streamLocal.onSessionRequest(e);
    if (e.requestType === Msg.ForwardingType.tcpipForward) return this.#forwardRequested(e);
    if (e.requestType === Msg.ForwardingType.cancelTcpipForward) return this.#cancelRequested(e);
    return false;
  }

  /** Serves the peer's `direct-tcpip` and `forwarded-tcpip` channels, and their socket counterparts. */
  async onChannelOpening(e: ChannelOpeningEvent): Promise<void> {
    if (this.#streamLocal.servesChannel(e.channelType)) return this.#streamLocal.onChannelOpening(e);
    if (e.channelType === Msg.ForwardingType.directTcpip) {
      const m = Msg.decodeDirectTcpip(e.data);
      if (!this.#acceptDirect) {
        return e.reject(ChannelOpenFailureReason.administrativelyProhibited, 'Connections to non-forwarded ports are disabled');
      }
      const fields = { host: m.hostToConnect, port: m.portToConnect, originatorAddress: m.originatorAddress, originatorPort: m.originatorPort };
      return this.#connectTcpChannel(e, fields, { host: m.hostToConnect, port: m.portToConnect });
    }
    if (e.channelType === Msg.ForwardingType.forwardedTcpip) {
      const m = Msg.decodeForwardedTcpip(e.data);
      let forward = this.#findRemote(m.connectedAddress, m.connectedPort);
      // The reply to our tcpip-forward may be in flight when its first connection arrives.
      if (forward === undefined && this.#requesting.size > 0) {
        await Promise.allSettled([...this.#requesting]);
        forward = this.#findRemote(m.connectedAddress, m.connectedPort);
      }
      if (forward === undefined) {
        return e.reject(ChannelOpenFailureReason.connectFailed, `No forwarding of ${m.connectedAddress}:${m.connectedPort} was requested`);
      }
      const fields = { host: m.connectedAddress, port: m.connectedPort, originatorAddress: m.originatorAddress, originatorPort: m.originatorPort };
      return this.#connectTcpChannel(e, fields, { host: forward.localHost, port: forward.localPort });
    }
    e.reject(ChannelOpenFailureReason.unknownChannelType, `Unknown channel type ${e.channelType}`);
  }

  /** The session ended: listeners stop, forwarded sockets are reset. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const forwarder of this.#local) forwarder.markClosed();
    for (const forwarder of this.#dynamic) forwarder.markClosed();
    this.#dynamic.clear();
    for (const forwarder of this.#remote) forwarder.markClosed();
    this.#local.clear();
    this.#remote.clear();
    this.#listening.clear();
    this.#streamLocal.dispose();
    this.#tcp.closeAll(resetSocket);
  }

  /** Listens locally for one of our forwards; refused once the session ended. */
  async #listenLocal(address: string, port: number, onConnection: (socket: Socket, originator: { address: string; port: number }) => void): Promise<Server> {
    const server = await listenTcp(address, port);
    if (this.#disposed) {
      server.close();
      throw new SshError(`The session ended while listening on ${address}:${port}`);
    }
    this.#tcp.addServer(server);
    server.on('connection', (socket: Socket) => onConnection(socket, { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }));
    return server;
  }

  #requireConnection(): Connection {
    const connection = this.#session.connection;
    if (this.#disposed || connection === undefined) throw new SshError('Port forwarding needs an open, authenticated session');
    return connection;
  }

  /** RFC 4254 §7.2 */
  #openDirect(host: string, port: number, originator: { address: string; port: number }): Promise<Channel> {
    const data = Msg.encodeDirectTcpip({ hostToConnect: host, portToConnect: port, originatorAddress: originator.address, originatorPort: originator.port });
    return this.#requireConnection().openChannel(Msg.ForwardingType.directTcpip, { data });
  }

  /** A connection reached one of our listeners: open its channel, then pump; reset it if the open fails. */
  #forwardAccepted(socket: Socket, open: () => Promise<Channel>): void {
    this.#tcp.addSocket(socket);
    socket.on('error', noop);
    open().then(
      (channel) => {
        if (socket.destroyed) return void channel.close();
        void pumpSocket(socket, channel);
      },
      () => resetSocket(socket),
    );
  }

  /** RFC 4254 §7.2: a TCP forwarding channel, vetoable through a PortForwardChannelOpeningEvent. */
  #connectTcpChannel(e: ChannelOpeningEvent, fields: ForwardChannelFields, target: { host: string; port: number }): Promise<void> {
    const event = new PortForwardChannelOpeningEvent(e.channel, e.data, fields);
    return this.#connectChannel(e, event, () => connectTcp(target.host, target.port), `${target.host}:${target.port}`);
  }

  /** Lets the application veto `event`, connects, and confirms the channel only once connected. */
  async #connectChannel(e: ChannelOpeningEvent, event: ChannelOpeningEvent, connect: () => Promise<Socket>, target: string): Promise<void> {
    await this.#session.onChannelOpening?.(event);
    if (event.failureReason !== undefined) return e.reject(event.failureReason, event.failureDescription);
    let socket: Socket;
    try {
      socket = await connect();
    } catch (error) {
      return e.reject(ChannelOpenFailureReason.connectFailed, `Cannot connect to ${target}: ${(error as Error).message}`);
    }
    if (this.#disposed) {
      resetSocket(socket);
      return e.reject(ChannelOpenFailureReason.connectFailed, 'The session is closing');
    }
    this.#tcp.addSocket(socket);
    socket.on('error', noop);
    e.handled = true;
    void pumpSocket(socket, e.channel);
  }

  #findRemote(address: string, port: number): RemotePortForwarder | undefined {
    let match: RemotePortForwarder | undefined;
    for (const forwarder of this.#remote) {
      if (forwarder.remotePort !== port) continue;
      if (forwarder.remoteAddress === address) return forwarder;
      match ??= forwarder;
    }
    return match;
  }

  async #cancelRemote(forwarder: RemotePortForwarder): Promise<void> {
    if (!this.#remote.delete(forwarder)) return;
    const data = Msg.encodeTcpipForward({ addressToBind: forwarder.remoteAddress, portToBind: forwarder.remotePort });
    await this.#session.connection
      ?.request({ requestType: Msg.ForwardingType.cancelTcpipForward, wantReply: true, data })
      .catch(noop);
  }

  /** RFC 4254 §7.1: the peer asks us to listen; only with the application's consent. */
  async #forwardRequested(e: RequestEvent): Promise<boolean> {
    const request = Msg.decodeTcpipForward(e.data);
    const event = new PortForwardRequestEvent(e, request);
    if (!(await this.#session.onRequest?.(event))) return false;
    if (this.#disposed) return false;
    if (request.portToBind !== 0 && [...this.#listening].some((l) => l.port === request.portToBind)) return false;
    let server: Server;
    try {
      server = await listenTcp(bindAddress(request.addressToBind), request.portToBind);
    } catch {
      return false;
    }
    if (this.#disposed) {
      server.close();
      return false;
    }
    const port = boundPort(server);
    this.#tcp.addServer(server);
    this.#listening.add({ addressToBind: request.addressToBind, port, server });
    const connected = { connectedAddress: request.addressToBind, connectedPort: port };
    server.on('connection', (socket: Socket) => {
      const data = Msg.encodeForwardedTcpip({ ...connected, originatorAddress: socket.remoteAddress ?? '', originatorPort: socket.remotePort ?? 0 });
      this.#forwardAccepted(socket, () => this.#requireConnection().openChannel(Msg.ForwardingType.forwardedTcpip, { data }));
    });
    // Reference notes §10 item 8: the port goes back even when it was not 0, as the reference does.
    e.responseData = Msg.encodeTcpipForwardReply(port);
    return true;
  }

  /** RFC 4254 §7.1: stops a listener this session asked for. */
  async #cancelRequested(e: RequestEvent): Promise<boolean> {
    const request = Msg.decodeTcpipForward(e.data);
    let found: Listening | undefined;
    for (const listening of this.#listening) {
      if (listening.port !== request.portToBind) continue;
      if (listening.addressToBind === request.addressToBind) found = listening;
      else found ??= listening;
    }
    if (found === undefined) return false;
    this.#listening.delete(found);
    await this.#tcp.closeServer(found.server);
    return true;
  }
}
