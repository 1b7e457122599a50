/**
 * The session: one Transport plus the services above it, wired together. Routes inbound messages
 * by number (5/6 and 50-79 to authentication, 80-100 to the connection protocol, configured
 * custom numbers to `config.messageHandlers`), and ends every layer with the same error. The
 * client and server subclasses add the authentication side they need.
 */
import { DisconnectReason, SshError } from './errors.js';
import type { SessionConfig } from './config.js';
import { MessageType } from './codec/messages/transport.js';
import { SshReader, SshWriter } from './codec/wire.js';
import { Transport, type ByteStream, type SessionCloseInfo, type TransportMetrics } from './transport/transport.js';
import type { LatencyFigures } from './transport/reconnect/latency.js';
import type { KexOutcome } from './transport/handshake.js';
import type { NegotiatedAlgorithms } from './kex/negotiate.js';
import type { MaybeCertifiedKey } from './keys/certified-key.js';
import type { AuthTransport } from './auth/types.js';
import { Connection, type OpenChannelInit } from './mux/connection.js';
import type { Channel } from './mux/channel.js';
import { connectAgentTarget, pipeDuplexes } from './agent/forwarding.js';
import type { ChannelOpeningEvent, RequestEvent, RequestHandler } from './mux/events.js';
import type { GlobalRequestOptions, GlobalRequestReply } from './mux/global-requests.js';
import { createTracer, type Tracer } from './trace/tracer.js';
import type { TraceHandler } from './trace/trace-event.js';

/** Options of `connect`. */
export interface ConnectOptions {
  /** Aborts the version exchange and key exchange. */
  signal?: AbortSignal;
}

/**
 * Session counters: traffic and key exchanges summed over every connection the session ran on,
 * reconnections, and round-trip latency (session-latency extension; 0 without samples).
 */
export interface SessionMetrics extends TransportMetrics, LatencyFigures {
  reconnections: number;
  /**
   * Bytes waiting to go to the peer right now (sealed and not yet taken by the byte stream, plus
   * messages held during a key exchange); `config.maxOutboundBuffer` bounds it.
   */
  bytesQueued: number;
}

/** RFC 4254 §9 numbers 80-82 and 90-100; 83-89 are unassigned (UNIMPLEMENTED, RFC 4253 §11.4). */
const isConnectionMessage = (type: number): boolean =>
  type >= MessageType.ChannelOpen ? type <= MessageType.ChannelFailure : type >= MessageType.GlobalRequest && type <= MessageType.RequestFailure;

const ZERO_LATENCY: LatencyFigures = { latencyCurrentMs: 0, latencyMinMs: 0, latencyMaxMs: 0, latencyAverageMs: 0 };

/** What sessions of both roles share. */
export abstract class SshSession {
  readonly config: SessionConfig;
  /** Settles once when the session ends: resolves on a clean close, rejects with the error otherwise. */
  readonly closed: Promise<SessionCloseInfo>;
  /** Handles the peer's global requests (RFC 4254 §4); truthy = SUCCESS. */
  onRequest: RequestHandler<RequestEvent> | undefined;
  #onChannelOpening: ((e: ChannelOpeningEvent) => void | Promise<void>) | undefined;
  /** Called when a key exchange completes (the first one and every re-key). */
  onKeyExchange: ((outcome: KexOutcome) => void) | undefined;
  /** Called when the byte stream is lost and the session (reconnection on) waits for a reconnect. */
  onDisconnected: ((error: SshError) => void) | undefined;
  /** Called when the session resumed on a new byte stream. */
  onReconnected: (() => void) | undefined;
  /**
   * Diagnostics (`ssh -v`): receives `{ level, category, message, ...fields }` for what
   * `config.trace` selects; nothing is built while it is `off`. See README "Diagnostics".
   */
  onTrace: TraceHandler | undefined;
  /** Present only while `config.trace` is on. */
  readonly #tracer: Tracer | undefined;

  /** The connection the session currently runs on; a reconnect replaces it. */
  protected transport: Transport;
  readonly #transportOptions: { isServer: boolean; config: SessionConfig; hostKeys?: readonly MaybeCertifiedKey[]; tracer?: Tracer };
  /** Counters of the connections the session ran on before the current one. */
  #earlier: TransportMetrics = { bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0, keyExchanges: 0 };
  #reconnections = 0;
  #latency: LatencyFigures = ZERO_LATENCY;
  #settleClosed!: (info: SessionCloseInfo) => void;
  #connection: Connection | undefined;
  #connectionReady: Promise<Connection>;
  #resolveConnection!: (c: Connection) => void;
  #rejectConnection!: (e: unknown) => void;

  protected constructor(config: SessionConfig, options: { isServer: boolean; hostKeys?: readonly MaybeCertifiedKey[] }) {
    this.config = config;
    this.#tracer = createTracer(config.trace, (event) => this.onTrace?.(event));
    this.#transportOptions = { isServer: options.isServer, config, hostKeys: options.hostKeys, tracer: this.#tracer };
    this.transport = this.createTransport();
    this.closed = new Promise<SessionCloseInfo>((resolve, reject) => {
      this.#settleClosed = (info) => (info.error ? reject(info.error) : resolve(info));
    });
    // A rejected `closed` must never become an unhandled rejection that kills the process.
    this.closed.catch(() => {});
    this.#connectionReady = new Promise((resolve, reject) => {
      this.#resolveConnection = resolve;
      this.#rejectConnection = reject;
    });
    this.#connectionReady.catch(() => {});
    this.#attach(this.transport);
  }

  /**
   * Decides the peer's channel opens; reject with `e.reject(reason, description)`. Takes effect
   * whenever it is set, before or after authentication. Without it a server accepts the types of
   * `connection.channelTypes` and a client only what it awaits with `acceptChannel(type)`.
   */
  get onChannelOpening(): ((e: ChannelOpeningEvent) => void | Promise<void>) | undefined {
    return this.#onChannelOpening;
  }

  set onChannelOpening(handler: ((e: ChannelOpeningEvent) => void | Promise<void>) | undefined) {
    this.#onChannelOpening = handler;
    if (this.#connection) this.#routeChannelOpens(this.#connection);
  }

  /** H of the first key exchange (RFC 4253 §7.2); undefined before connect. */
  get sessionId(): Uint8Array | undefined {
    return this.transport.sessionId;
  }

  get isConnected(): boolean {
    return this.transport.isConnected;
  }

  get isClosed(): boolean {
    return this.transport.isClosed;
  }

  /** True for a ServerSession. */
  get isServer(): boolean {
    return this.transport.isServer;
  }

  /** What the latest key exchange negotiated. */
  get algorithms(): NegotiatedAlgorithms | undefined {
    return this.transport.algorithms;
  }

  /** True while a reconnect-enabled session has lost its byte stream and waits for a reconnect. */
  get isDisconnected(): boolean {
    return this.transport.isDisconnected;
  }

  get metrics(): SessionMetrics {
    const now = this.transport.metrics;
    const earlier = this.#earlier;
    return {
      bytesSent: earlier.bytesSent + now.bytesSent,
      bytesReceived: earlier.bytesReceived + now.bytesReceived,
      packetsSent: earlier.packetsSent + now.packetsSent,
      packetsReceived: earlier.packetsReceived + now.packetsReceived,
      keyExchanges: earlier.keyExchanges + now.keyExchanges,
      reconnections: this.#reconnections,
      bytesQueued: this.transport.outboundBacklog,
      ...(this.transport.reconnect?.latency.snapshot() ?? this.#latency),
    };
  }

  /** The peer's identification string (RFC 4253 §4.2). */
  get remoteVersion(): string {
    return this.transport.isServer ? this.transport.clientVersion : this.transport.serverVersion;
  }

  /** Extensions the peer announced (RFC 8308), once its EXT_INFO arrived. */
  get peerExtensions(): ReadonlyMap<string, string> | undefined {
    return this.transport.peerExtensions;
  }

  /**
   * Runs the version exchange and the first key exchange over any byte stream: a
   * `{ readable, writable }` pair of Web Streams, or on Node a connected `node:net` Socket (adapted
   * by `socketToDuplex`, the fast path; `Duplex.toWeb(socket)` copies every chunk).
   * @throws SshError (ProtocolError, AlgorithmNegotiationError, HostKeyError, DisconnectError) on failure
   */
  async connect(duplex: ByteStream, options: ConnectOptions = {}): Promise<void> {
    await this.transport.connect(duplex, options);
  }

  /**
   * RFC 4253 §11.1: sends DISCONNECT and closes every channel. With reconnection enabled,
   * CONNECTION_LOST only drops the byte stream: the session waits for a reconnect (notes §2.3.4).
   */
  async close(reason: number = DisconnectReason.byApplication, message = ''): Promise<void> {
    if (reason === DisconnectReason.connectionLost && this.transport.reconnect?.negotiated) {
      this.transport.disconnect(message || 'Connection lost');
      return;
    }
    await this.transport.close(reason, message);
  }

  /** Starts a key re-exchange (RFC 4253 §9) and waits for it. */
  rekey(): Promise<void> {
    return this.transport.rekey();
  }

  /** RFC 4254 §5.1: opens a channel (`session` by default). */
  openChannel(channelType = 'session', init?: OpenChannelInit): Promise<Channel> {
    // Straight through once connected: an async wrapper would add a promise and a hop per open.
    if (this.#connection) return this.#connection.openChannel(channelType, init);
    return this.#requireConnection().then((connection) => connection.openChannel(channelType, init));
  }

  /** Waits for the peer to open a channel (of `channelType`, when given). */
  acceptChannel(channelType?: string): Promise<Channel> {
    if (this.#connection) return this.#connection.acceptChannel(channelType);
    return this.#connectionReady.then((connection) => connection.acceptChannel(channelType));
  }

  /** Incoming channels in arrival order; ends when the session closes. */
  get channels(): AsyncIterable<Channel> {
    const ready = this.#connectionReady;
    const connected = this.#connection;
    return {
      [Symbol.asyncIterator](): AsyncIterator<Channel> {
        if (connected) return connected.channels[Symbol.asyncIterator]();
        let inner: AsyncIterator<Channel> | undefined;
        let ended = false;
        const finished: IteratorResult<Channel> = { done: true, value: undefined };
        return {
          next: async () => {
            if (ended) return finished;
            try {
              inner ??= (await ready).channels[Symbol.asyncIterator]();
            } catch {
              ended = true;
              return finished;
            }
            return ended ? finished : inner.next();
          },
          return: async () => {
            ended = true;
            return (await inner?.return?.()) ?? finished;
          },
        };
      },
    };
  }

  /** RFC 4254 §4: sends a global request; resolves with the peer's answer. */
  async request(options: GlobalRequestOptions): Promise<boolean> {
    return (await this.#requireConnection()).request(options);
  }

  /** RFC 4254 §4: a global request whose SUCCESS may carry data (e.g. the bound port of tcpip-forward). */
  async requestWithReply(options: GlobalRequestOptions): Promise<GlobalRequestReply> {
    return (await this.#requireConnection()).requestWithReply(options);
  }

  /** The connection service, once authentication succeeded (for services and forwarding). */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** Resolves with the connection service once authentication succeeded. */
  get connectionReady(): Promise<Connection> {
    return this.#connectionReady;
  }

  /** Sends a raw message (a custom message number, for example) in order with everything else. */
  sendMessage(payload: Uint8Array): Promise<void> {
    return this.transport.send(payload);
  }

  /** The session's diagnostics, present only while `config.trace` is on (guard every trace with it). */
  protected get tracer(): Tracer | undefined {
    return this.#tracer;
  }

  /** The AuthTransport port the authentication services use (always the current connection). */
  protected authTransport(): AuthTransport {
    return new SshSession.#AuthPort(this);
  }

  /** A new, unconnected transport with this session's role, configuration and host keys. */
  protected createTransport(): Transport {
    return new Transport(this.#transportOptions);
  }

  /**
   * Notes §2.3.5: the session continues on `next` (connected, with the reconnect handshake done).
   * The lost connection is dropped, `next` derives later keys from the original session id, and
   * `replay` (what the peer never received) goes out before anything else.
   */
  protected adoptTransport(next: Transport, replay: readonly Uint8Array[]): void {
    const previous = this.transport;
    const sessionId = previous.sessionId!;
    const counted = previous.metrics;
    for (const key of Object.keys(counted) as (keyof TransportMetrics)[]) this.#earlier[key] += counted[key];
    this.#latency = previous.reconnect?.latency.snapshot() ?? this.#latency;
    previous.onClose = () => {};
    previous.onDisconnected = () => {};
    void previous.close(DisconnectReason.byApplication, 'Reconnected');
    next.resumeSession(sessionId);
    // A server's new connection was made by the temporary session that received the request.
    next.tracer = this.#tracer;
    this.transport = next;
    this.#attach(next);
    for (const payload of replay) void next.send(payload).catch(() => {});
    this.#reconnections++;
    this.#tracer?.emit('info', 'reconnect', `Session resumed on a new connection; ${replay.length} message(s) replayed to the peer`, {
      replayedMessages: replay.length,
      reconnections: this.#reconnections,
    });
    this.onReconnected?.();
  }

  /**
   * Ends this session without touching its transport, which another session took over (the
   * temporary server session of a reconnect). It is closed from then on.
   */
  protected releaseTransport(description: string): void {
    const released = this.transport;
    released.onClose = () => {};
    this.transport = this.createTransport();
    void this.transport.close(DisconnectReason.byApplication, description);
    this.#ended({ reason: DisconnectReason.byApplication, description, initiatedBy: 'local' });
  }

  /** Called when this session's connection enabled reconnection. */
  protected reconnectEnabled(): void {}

  /** Handles a global request before the connection protocol sees it; returns true when consumed. */
  protected interceptGlobalRequest(_payload: Uint8Array): boolean {
    return false;
  }

  #attach(transport: Transport): void {
    transport.onMessage = (payload) => this.#route(payload);
    transport.onClose = (info) => this.#ended(info);
    transport.onExtInfo = (extensions) => this.#connection?.setPeerExtensions([...extensions.keys()]);
    transport.onKeyExchange = (outcome) => {
      // Kex `none` (SessionConfig.noSecurity) serves channels without authentication, as Dev
      // Tunnels SSH does: its peers open channels right away.
      if (outcome.initial && outcome.algorithms.kex === 'none') this.startWithoutAuthentication();
      this.onKeyExchange?.(outcome);
    };
    transport.onReconnectEnabled = () => this.reconnectEnabled();
    transport.onDisconnected = (error) => {
      this.#tracer?.emit('info', 'reconnect', `Connection lost; the session waits for a reconnect: ${error.message}`, { error: error.message });
      this.onDisconnected?.(error);
    };
  }

  /** Called by subclasses when authentication succeeded: the connection protocol starts. */
  protected startConnection(): Connection {
    if (this.#connection) return this.#connection;
    const connection = new Connection(
      { send: (payload) => this.transport.send(payload) },
      {
        config: this.config,
        isServer: this.transport.isServer,
        owner: this,
        peerExtensions: this.transport.peerExtensions ? [...this.transport.peerExtensions.keys()] : undefined,
      },
    );
    connection.onRequest = (e) => (this.onRequest ? this.onRequest(e) : undefined);
    connection.onAgentChannel = async (e, target) => {
      // Connect first: a refused agent refuses the open (connectFailed), as OpenSSH does.
      const agent = await connectAgentTarget(target);
      e.handled = true;
      void pipeDuplexes(agent, e.channel).then(() => e.channel.close().catch(() => {}));
    };
    this.#routeChannelOpens(connection);
    // Through close(): with reconnection on, a dead peer means a lost stream, not the end of the session.
    connection.onKeepAliveFailed = () => void this.close(DisconnectReason.connectionLost, 'Keepalive timed out');
    this.#connection = connection;
    this.#resolveConnection(connection);
    return connection;
  }

  /** Starts the connection protocol when the session negotiated no security at all. */
  protected startWithoutAuthentication(): void {
    this.startConnection();
  }

  /** Handles messages 5/6 and 50-79 (authentication); returns false when not handled. */
  protected abstract routeAuthentication(payload: Uint8Array): boolean;

  /** Ends the authentication side with the session's error. */
  protected abstract endAuthentication(error: Error): void;

  /**
   * A server always decides opens here; a client only while a handler is set, since without one
   * the connection's own rule (accept what `acceptChannel(type)` awaits) applies.
   */
  #routeChannelOpens(connection: Connection): void {
    connection.onChannelOpening = this.#onChannelOpening || this.transport.isServer ? (e) => this.#channelOpening(e) : undefined;
  }

  #channelOpening(e: ChannelOpeningEvent): void | Promise<void> {
    if (this.#onChannelOpening) return this.#onChannelOpening(e);
    // A server without a hook accepts what Connection.channelTypes allows.
    if (!this.#connection!.channelTypes.has(e.channelType)) e.reject(3, `Unknown channel type ${e.channelType}`);
  }

  async #requireConnection(): Promise<Connection> {
    if (this.#connection) return this.#connection;
    if (this.transport.isClosed) return this.#connectionReady;
    throw new SshError('The session is not authenticated yet: call authenticate() first');
  }

  #route(payload: Uint8Array): boolean {
    const type = payload[0]!;
    if (isConnectionMessage(type)) {
      if (type === MessageType.GlobalRequest && this.interceptGlobalRequest(payload)) return true;
      if (this.#connection) {
        this.#connection.handleMessage(payload);
        return true;
      }
      return this.#beforeAuthentication(payload);
    }
    this.#connection?.markActivity();
    if (type === MessageType.ServiceRequest || type === MessageType.ServiceAccept || (type >= 50 && type <= 79)) {
      if (this.routeAuthentication(payload)) return true;
    }
    const handler = this.config.messageHandlers.get(type);
    if (handler) {
      Promise.resolve()
        .then(() => handler(payload, this))
        .catch((error) => void this.transport.close(DisconnectReason.protocolError, `Message ${type} handler failed: ${(error as Error)?.message}`));
      return true;
    }
    return false;
  }

  /** RFC 4252 §6: nothing of the connection protocol is served before authentication. */
  #beforeAuthentication(payload: Uint8Array): boolean {
    const r = new SshReader(payload, 1);
    r.context = 'Request before authentication';
    if (payload[0] === MessageType.GlobalRequest) {
      r.string();
      // Answer with FAILURE when a reply is wanted, so the peer's FIFO of replies stays aligned.
      if (r.boolean()) void this.transport.send(new Uint8Array([MessageType.RequestFailure])).catch(() => {});
    } else if (payload[0] === MessageType.ChannelOpen) {
      r.string();
      const w = new SshWriter(32);
      w.byte(MessageType.ChannelOpenFailure).uint32(r.uint32()).uint32(1).string('Not authenticated').string('');
      void this.transport.send(w.toBytes()).catch(() => {});
    } else if (payload[0]! >= MessageType.ChannelWindowAdjust) {
      // No channel exists yet. Dropping this silently would lose data a reconnecting Dev Tunnels
      // client sends on its new connection before the reconnect request: refuse it loudly.
      const message = `Channel message ${payload[0]} for channel ${r.uint32()} before authentication`;
      void this.transport.close(DisconnectReason.protocolError, message);
    }
    return true;
  }

  #ended(info: SessionCloseInfo): void {
    const error = info.error ?? new SshError(`Session closed${info.description ? `: ${info.description}` : ''}`);
    this.endAuthentication(error);
    const open = this.#connection?.channelCount ?? 0;
    if (open > 0) this.#tracer?.emit('debug', 'channel', `${open} channel(s) ended with the session`, { channels: open });
    this.#connection?.close(error);
    this.#rejectConnection(error);
    this.#settleClosed(info);
  }

  /** The authentication services' view of a session: accessors on a prototype (an object literal with getters costs ~10 µs to build). */
  static readonly #AuthPort = class implements AuthTransport {
    readonly config: SessionConfig;
    readonly #session: SshSession;

    constructor(session: SshSession) {
      this.#session = session;
      this.config = session.config;
    }

    send(payload: Uint8Array): Promise<void> {
      return this.#session.transport.send(payload);
    }
    get sessionId(): Uint8Array {
      return this.#session.transport.sessionId ?? new Uint8Array(0);
    }
    get peerExtensions(): ReadonlyMap<string, string> | undefined {
      return this.#session.transport.peerExtensions;
    }
    get hostKeyBlob(): Uint8Array | undefined {
      return this.#session.transport.hostKeyBlob;
    }
    disconnect(reason: number, description: string): void {
      void this.#session.transport.close(reason, description);
    }
  };
}
