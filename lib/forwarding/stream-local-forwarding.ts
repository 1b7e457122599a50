/**
 * Unix-domain socket forwarding over one session (OpenSSH PROTOCOL §2.4), the part of the port
 * forwarding service that deals in socket paths: it asks the peer to connect a path
 * (`direct-streamlocal@openssh.com`) or to listen on one (`streamlocal-forward@openssh.com`),
 * and serves the same from the peer once the application authorizes them. Sockets, listeners,
 * vetoes and pumping are shared with TCP forwarding through the service's StreamLocalHost.
 */
import type { Server, Socket } from 'node:net';
import { ChannelOpenFailureReason, SshError } from '../errors.js';
import type { Channel } from '../mux/channel.js';
import type { Connection } from '../mux/connection.js';
import type { ChannelOpeningEvent, RequestEvent } from '../mux/events.js';
import { SocketForwardChannelOpeningEvent, SocketForwardRequestEvent } from './events.js';
import { LocalSocketForwarder, RemoteSocketForwarder, whilePending } from './forwarders.js';
import * as Msg from './stream-local-messages.js';
import type { TcpRegistry } from './tcp-endpoints.js';
import { connectUnix, listenUnix } from './unix-endpoints.js';
import type { ForwardingSession } from './port-forwarding-service.js';

/** What the Unix-socket part needs of the port forwarding service that owns it. */
export interface StreamLocalHost {
  readonly session: ForwardingSession;
  /** Serve the peer's direct opens (the service's `acceptDirectConnections`). */
  readonly acceptDirect: boolean;
  readonly isDisposed: boolean;
  /** Live sockets and listeners, ended with the session. */
  readonly registry: TcpRegistry;
  requireConnection(): Connection;
  /** A connection reached one of our listeners: open its channel and pump, or reset it. */
  forwardAccepted(socket: Socket, open: () => Promise<Channel>): void;
  /** Lets the application veto `event`, connects, and confirms the channel only once connected. */
  connectChannel(e: ChannelOpeningEvent, event: ChannelOpeningEvent, connect: () => Promise<Socket>, target: string): Promise<void>;
}

/** OpenSSH PROTOCOL §2.4: Unix-domain socket forwarding, both directions. */
export class StreamLocalForwarding {
  readonly #host: StreamLocalHost;
  /** Paths we listen on because the peer sent `streamlocal-forward@openssh.com`. */
  readonly #listening = new Map<string, Server>();
  readonly #local = new Set<LocalSocketForwarder>();
  readonly #remote = new Set<RemoteSocketForwarder>();
  readonly #requesting = new Set<Promise<unknown>>();

  constructor(host: StreamLocalHost) {
    this.#host = host;
  }

  /** Local socket listeners made by `forwardToRemoteSocket` and not closed. */
  get localForwarders(): readonly LocalSocketForwarder[] {
    return [...this.#local];
  }

  /** Socket paths the peer listens on for us and not cancelled. */
  get remoteForwarders(): readonly RemoteSocketForwarder[] {
    return [...this.#remote];
  }

  /** OpenSSH PROTOCOL §2.4: a `direct-streamlocal@openssh.com` channel to `socketPath` on the peer. */
  streamToRemoteSocket(socketPath: string): Promise<Channel> {
    return this.#host.requireConnection().openChannel(Msg.StreamLocalType.directStreamLocal, { data: Msg.encodeDirectStreamLocal(socketPath) });
  }

  /** Listens on `localPath` and forwards each connection to `remotePath` on the peer. */
  async forwardToRemoteSocket(localPath: string, remotePath: string): Promise<LocalSocketForwarder> {
    this.#host.requireConnection();
    const server = await listenUnix(localPath);
    if (this.#host.isDisposed) {
      server.close();
      throw new SshError(`The session ended while listening on ${localPath}`);
    }
    const registry = this.#host.registry;
    registry.addServer(server);
    server.on('connection', (socket: Socket) => this.#host.forwardAccepted(socket, () => this.streamToRemoteSocket(remotePath)));
    const forwarder: LocalSocketForwarder = new LocalSocketForwarder({
      localPath,
      remotePath,
      stop: () => {
        this.#local.delete(forwarder);
        return registry.closeServer(server);
      },
    });
    this.#local.add(forwarder);
    return forwarder;
  }

  /** OpenSSH PROTOCOL §2.4: asks the peer to listen on `remotePath` and forward its connections to `localPath` here. */
  async forwardFromRemoteSocket(remotePath: string, localPath: string): Promise<RemoteSocketForwarder> {
    const connection = this.#host.requireConnection();
    const registered = (async () => {
      const reply = await connection.requestWithReply({
        requestType: Msg.StreamLocalType.streamLocalForward,
        wantReply: true,
        data: Msg.encodeStreamLocalForward(remotePath),
      });
      if (!reply.success) throw new SshError(`The peer refused to listen on socket ${remotePath}`);
      const forwarder: RemoteSocketForwarder = new RemoteSocketForwarder({ remotePath, localPath, cancel: () => this.#cancelRemote(forwarder) });
      if (this.#host.isDisposed) forwarder.markClosed();
      else this.#remote.add(forwarder);
      return forwarder;
    })();
    return whilePending(this.#requesting, registered);
  }

  /** True for the global requests this part serves. */
  servesRequest(requestType: string): boolean {
    return requestType === Msg.StreamLocalType.streamLocalForward || requestType === Msg.StreamLocalType.cancelStreamLocalForward;
  }

  /** True for the channel types this part serves. */
  servesChannel(channelType: string): boolean {
    return channelType === Msg.StreamLocalType.directStreamLocal || channelType === Msg.StreamLocalType.forwardedStreamLocal;
  }

  /** Routes the peer's `streamlocal-forward@openssh.com` and its cancel. */
  onSessionRequest(e: RequestEvent): Promise<boolean> {
    return e.requestType === Msg.StreamLocalType.streamLocalForward ? this.#forwardRequested(e) : this.#cancelRequested(e);
  }

  /** Serves the peer's `direct-streamlocal@openssh.com` and `forwarded-streamlocal@openssh.com` channels. */
  async onChannelOpening(e: ChannelOpeningEvent): Promise<void> {
    if (e.channelType === Msg.StreamLocalType.directStreamLocal) {
      const { socketPath } = Msg.decodeDirectStreamLocal(e.data);
      if (!this.#host.acceptDirect) {
        return e.reject(ChannelOpenFailureReason.administrativelyProhibited, 'Connections to non-forwarded sockets are disabled');
      }
      const event = new SocketForwardChannelOpeningEvent(e.channel, e.data, socketPath);
      return this.#host.connectChannel(e, event, () => connectUnix(socketPath), socketPath);
    }
    const { socketPath } = Msg.decodeForwardedStreamLocal(e.data);
    let forward = this.#findRemote(socketPath);
    // The reply to our request may be in flight when its first connection arrives.
    if (forward === undefined && this.#requesting.size > 0) {
      await Promise.allSettled([...this.#requesting]);
      forward = this.#findRemote(socketPath);
    }
    if (forward === undefined) return e.reject(ChannelOpenFailureReason.connectFailed, `No forwarding of socket ${socketPath} was requested`);
    const localPath = forward.localPath;
    const event = new SocketForwardChannelOpeningEvent(e.channel, e.data, socketPath);
    return this.#host.connectChannel(e, event, () => connectUnix(localPath), localPath);
  }

  /** The session ended: handles are marked closed (the service's registry stops the listeners). */
  dispose(): void {
    for (const forwarder of this.#local) forwarder.markClosed();
    for (const forwarder of this.#remote) forwarder.markClosed();
    this.#local.clear();
    this.#remote.clear();
    this.#listening.clear();
  }

  #findRemote(socketPath: string): RemoteSocketForwarder | undefined {
    for (const forwarder of this.#remote) if (forwarder.remotePath === socketPath) return forwarder;
    return undefined;
  }

  async #cancelRemote(forwarder: RemoteSocketForwarder): Promise<void> {
    if (!this.#remote.delete(forwarder)) return;
    const data = Msg.encodeStreamLocalForward(forwarder.remotePath);
    await this.#host.session.connection
      ?.request({ requestType: Msg.StreamLocalType.cancelStreamLocalForward, wantReply: true, data })
      .catch(() => {});
  }

  /** OpenSSH PROTOCOL §2.4: the peer asks us to listen on a path; only with the application's consent. */
  async #forwardRequested(e: RequestEvent): Promise<boolean> {
    const { socketPath } = Msg.decodeStreamLocalForward(e.data);
    const event = new SocketForwardRequestEvent(e, socketPath);
    if (!(await this.#host.session.onRequest?.(event))) return false;
    if (this.#host.isDisposed || this.#listening.has(socketPath)) return false;
    let server: Server;
    try {
      server = await listenUnix(socketPath);
    } catch {
      return false;
    }
    if (this.#host.isDisposed) {
      server.close();
      return false;
    }
    this.#host.registry.addServer(server);
    this.#listening.set(socketPath, server);
    const data = Msg.encodeForwardedStreamLocal(socketPath);
    server.on('connection', (socket: Socket) => {
      this.#host.forwardAccepted(socket, () => this.#host.requireConnection().openChannel(Msg.StreamLocalType.forwardedStreamLocal, { data }));
    });
    return true;
  }

  /** OpenSSH PROTOCOL §2.4: stops a socket listener this session asked for. */
  async #cancelRequested(e: RequestEvent): Promise<boolean> {
    const { socketPath } = Msg.decodeStreamLocalForward(e.data);
    const server = this.#listening.get(socketPath);
    if (server === undefined) return false;
    this.#listening.delete(socketPath);
    await this.#host.registry.closeServer(server);
    return true;
  }
}
