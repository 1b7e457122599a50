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
import { Transport, type Duplex, type SessionCloseInfo, type TransportMetrics } from './transport/transport.js';
import type { KexOutcome } from './transport/handshake.js';
import type { NegotiatedAlgorithms } from './kex/negotiate.js';
import type { KeyPair } from './keys/key-pair.js';
import type { AuthTransport } from './auth/types.js';
import { Connection, type OpenChannelInit } from './mux/connection.js';
import type { Channel } from './mux/channel.js';
import type { ChannelOpeningEvent, RequestEvent, RequestHandler } from './mux/events.js';
import type { GlobalRequestOptions, GlobalRequestReply } from './mux/global-requests.js';

/** Options of `connect`. */
export interface ConnectOptions {
  /** Aborts the version exchange and key exchange. */
  signal?: AbortSignal;
}

/** Session counters (transport traffic and key exchanges). */
export type SessionMetrics = TransportMetrics;

/** What sessions of both roles share. */
export abstract class SshSession {
  readonly config: SessionConfig;
  /** Settles once when the session ends: resolves on a clean close, rejects with the error otherwise. */
  readonly closed: Promise<SessionCloseInfo>;
  /** Handles the peer's global requests (RFC 4254 §4); truthy = SUCCESS. */
  onRequest: RequestHandler<RequestEvent> | undefined;
  /** Decides the peer's channel opens; reject with `e.reject(reason, description)`. */
  onChannelOpening: ((e: ChannelOpeningEvent) => void | Promise<void>) | undefined;
  /** Called when a key exchange completes (the first one and every re-key). */
  onKeyExchange: ((outcome: KexOutcome) => void) | undefined;

  protected readonly transport: Transport;
  #connection: Connection | undefined;
  #connectionReady: Promise<Connection>;
  #resolveConnection!: (c: Connection) => void;
  #rejectConnection!: (e: unknown) => void;

  protected constructor(config: SessionConfig, options: { isServer: boolean; hostKeys?: readonly KeyPair[] }) {
    this.config = config;
    this.transport = new Transport({ isServer: options.isServer, config, hostKeys: options.hostKeys });
    this.closed = this.transport.closed;
    this.#connectionReady = new Promise((resolve, reject) => {
      this.#resolveConnection = resolve;
      this.#rejectConnection = reject;
    });
    this.#connectionReady.catch(() => {});
    this.transport.onMessage = (payload) => this.#route(payload);
    this.transport.onClose = (info) => this.#ended(info);
    this.transport.onExtInfo = (extensions) => this.#connection?.setPeerExtensions([...extensions.keys()]);
    this.transport.onKeyExchange = (outcome) => {
      // Kex `none` (SessionConfig.noSecurity) serves channels without authentication, as Dev
      // Tunnels SSH does: its peers open channels right away.
      if (outcome.initial && outcome.algorithms.kex === 'none') this.startWithoutAuthentication();
      this.onKeyExchange?.(outcome);
    };
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

  get metrics(): SessionMetrics {
    return this.transport.metrics;
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
   * Runs the version exchange and the first key exchange over any byte stream.
   * @throws SshError (ProtocolError, AlgorithmNegotiationError, HostKeyError, DisconnectError) on failure
   */
  async connect(duplex: Duplex, options: ConnectOptions = {}): Promise<void> {
    await this.transport.connect(duplex, options);
  }

  /** RFC 4253 §11.1: sends DISCONNECT and closes every channel. */
  async close(reason: number = DisconnectReason.byApplication, message = ''): Promise<void> {
    await this.transport.close(reason, message);
  }

  /** Starts a key re-exchange (RFC 4253 §9) and waits for it. */
  rekey(): Promise<void> {
    return this.transport.rekey();
  }

  /** RFC 4254 §5.1: opens a channel (`session` by default). */
  async openChannel(channelType = 'session', init?: OpenChannelInit): Promise<Channel> {
    return (await this.#requireConnection()).openChannel(channelType, init);
  }

  /** Waits for the peer to open a channel (of `channelType`, when given). */
  async acceptChannel(channelType?: string): Promise<Channel> {
    return (await this.#connectionReady).acceptChannel(channelType);
  }

  /** Incoming channels in arrival order; ends when the session closes. */
  get channels(): AsyncIterable<Channel> {
    const ready = this.#connectionReady;
    return {
      async *[Symbol.asyncIterator]() {
        let connection: Connection;
        try {
          connection = await ready;
        } catch {
          return;
        }
        yield* connection.channels;
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

  /** The AuthTransport port the authentication services use. */
  protected authTransport(): AuthTransport {
    const transport = this.transport;
    return {
      send: (payload) => transport.send(payload),
      get sessionId() {
        return transport.sessionId ?? new Uint8Array(0);
      },
      config: this.config,
      get peerExtensions() {
        return transport.peerExtensions;
      },
      get hostKeyBlob() {
        return transport.hostKey?.publicKeyBlob;
      },
      disconnect: (reason, description) => void transport.close(reason, description),
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
    connection.onChannelOpening = this.onChannelOpening || this.transport.isServer ? (e) => this.#channelOpening(e) : undefined;
    connection.onKeepAliveFailed = () => void this.transport.close(DisconnectReason.connectionLost, 'Keepalive timed out');
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

  #channelOpening(e: ChannelOpeningEvent): void | Promise<void> {
    if (this.onChannelOpening) return this.onChannelOpening(e);
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
    if (type >= MessageType.GlobalRequest && type <= MessageType.ChannelFailure) {
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
    }
    return true;
  }

  #ended(info: SessionCloseInfo): void {
    const error = info.error ?? new SshError(`Session closed${info.description ? `: ${info.description}` : ''}`);
    this.endAuthentication(error);
    this.#connection?.close(error);
    this.#rejectConnection(error);
  }
}
