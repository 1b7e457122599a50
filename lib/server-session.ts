/**
 * The server side of a session: signs the key exchange with its host keys, authenticates the
 * client through `onAuthenticating` (no handler = every attempt refused), and serves the
 * connection protocol only after success (RFC 4252 §6).
 */
import { DisconnectReason, ReconnectFailureReason } from './errors.js';
import { SessionConfig } from './config.js';
import { ProtocolExtensions } from './algorithms.js';
import { MessageType, ServiceAccept, ServiceRequest } from './codec/messages/transport.js';
import { decode, encode } from './codec/schema.js';
import type { ByteStream } from './transport/transport.js';
import type { MaybeCertifiedKey } from './keys/certified-key.js';
import type { Certificate } from './keys/certificate.js';
import { ServerAuthentication } from './auth/server.js';
import type { AuthenticationResult, ServerAuthenticatingHandler } from './auth/types.js';
import { SshSession, type ConnectOptions } from './ssh-session.js';
import { reconnectToken, verifyReconnectToken } from './transport/reconnect/tokens.js';
import { releaseAfterPeerReplay } from './transport/reconnect/replay-hold.js';
import {
  RECONNECT_REQUEST,
  decodeReconnectRequest,
  encodeReconnectFailure,
  encodeReconnectResponse,
  globalRequestType,
} from './transport/reconnect/messages.js';

/** Options of a ServerSession. */
export interface ServerSessionOptions {
  /**
   * Host keys; one per key type at most is used. `{ key, certificate }` also offers the host
   * certificate (PROTOCOL.certkeys) to clients that ask for `*-cert-v01@openssh.com`.
   */
  hostKeys: readonly MaybeCertifiedKey[];
  /** RFC 4252 §5.4 banner shown to clients before authentication. */
  banner?: string;
  /**
   * Sessions a client may reconnect to (notes §2.3.5), shared by every session of one server.
   * A session joins once reconnection is enabled on it and leaves when it closes; without this
   * set reconnect requests are refused.
   */
  reconnectableSessions?: Set<ServerSession>;
  /** The client's IP address (TcpServer sets it): user certificates with `source-address` need it. */
  remoteAddress?: string;
}

/**
 * An SSH server session over any byte stream.
 * @example
 * const server = new ServerSession(SessionConfig.default(), { hostKeys: [hostKey] });
 * server.onAuthenticating = (e) => e.username === 'admin' && e.password === 'secret';
 * await server.connect(duplex);
 * for await (const channel of server.channels) handle(channel);
 */
export class ServerSession extends SshSession {
  /** Decides each authentication attempt; truthy accepts and becomes `principal`. */
  onAuthenticating: ServerAuthenticatingHandler | undefined;
  /** Called when a client authenticated, before SUCCESS is sent. */
  onAuthenticated: ((result: AuthenticationResult) => void) | undefined;
  readonly #options: ServerSessionOptions;
  #auth: ServerAuthentication | undefined;
  #authenticated: Promise<AuthenticationResult>;
  #resolveAuthenticated!: (r: AuthenticationResult) => void;
  #rejectAuthenticated!: (e: unknown) => void;

  constructor(config: SessionConfig = SessionConfig.default(), options: ServerSessionOptions) {
    super(config, { isServer: true, hostKeys: options.hostKeys });
    this.#options = options;
    this.#authenticated = new Promise((resolve, reject) => {
      this.#resolveAuthenticated = resolve;
      this.#rejectAuthenticated = reject;
    });
    this.#authenticated.catch(() => {});
  }

  /** Settles once: how the client authenticated, or the error that ended the session first. */
  get authenticated(): Promise<AuthenticationResult> {
    return this.#authenticated;
  }

  /** What `onAuthenticating` returned to accept the client (undefined before). */
  get principal(): unknown {
    return this.#auth?.result?.principal;
  }

  /**
   * The `force-command` of the user certificate the client authenticated with (PROTOCOL.certkeys):
   * `serveExec` runs it instead of any exec, shell or subsystem request; custom handlers must too.
   */
  get forcedCommand(): string | undefined {
    return this.#auth?.result?.certificate?.criticalOptions.get('force-command');
  }

  /** The user certificate the client authenticated with, if any. */
  get certificate(): Certificate | undefined {
    return this.#auth?.result?.certificate;
  }

  /** The authenticated user name. */
  get username(): string | undefined {
    return this.#auth?.result?.username;
  }

  get isAuthenticated(): boolean {
    return this.#auth?.isAuthenticated ?? false;
  }

  /** Version exchange and key exchange; the authentication timeout starts here. */
  override async connect(duplex: ByteStream, options: ConnectOptions = {}): Promise<void> {
    const auth = new ServerAuthentication(this.authTransport(), {
      onAuthenticating: (e) => (this.onAuthenticating ? this.onAuthenticating(e) : false),
      banner: this.#options.banner,
      remoteAddress: this.#options.remoteAddress,
    });
    auth.onAuthenticated = (result) => {
      this.startConnection();
      this.onAuthenticated?.(result);
    };
    auth.authenticated.then(this.#resolveAuthenticated, this.#rejectAuthenticated);
    this.#auth = auth;
    await super.connect(duplex, options);
  }

  protected override reconnectEnabled(): void {
    const sessions = this.#options.reconnectableSessions;
    if (!sessions || sessions.has(this)) return;
    sessions.add(this);
    this.closed.finally(() => sessions.delete(this)).catch(() => {});
  }

  /** Notes §2.3.5: the reconnect request arrives on a fresh session; it is not an application request. */
  protected override interceptGlobalRequest(payload: Uint8Array): boolean {
    if (globalRequestType(payload) !== RECONNECT_REQUEST || !this.config.protocolExtensions.includes(ProtocolExtensions.sessionReconnect)) return false;
    this.#serveReconnect(payload);
    return true;
  }

  /**
   * Notes §2.3.5 server side, in one turn so the client's replay (the next packets) already
   * reaches the resumed session: find the session by token, answer, hand it this connection.
   */
  #serveReconnect(payload: Uint8Array): void {
    const transport = this.transport;
    const request = decodeReconnectRequest(payload);
    const current = transport.sessionId!;
    const clientKey = { mac: transport.algorithms?.macClientToServer, key: transport.integrityKeys?.clientToServer ?? new Uint8Array(0) };
    const fail = (reason: number, description: string): void => {
      this.tracer?.emit('info', 'reconnect', `Reconnect request refused: ${description}`, { reasonCode: reason });
      void transport.send(encodeReconnectFailure({ reason, description })).catch(() => {});
    };
    const sessions = this.#options.reconnectableSessions ?? new Set<ServerSession>();
    let found: ServerSession | undefined;
    for (const session of sessions) {
      const previous = session.sessionId;
      if (session === this || !previous || session.isClosed) continue;
      if (verifyReconnectToken(clientKey, { previous, current }, request.clientReconnectToken)) {
        found = session;
        break;
      }
    }
    if (!found) {
      return fail(
        ReconnectFailureReason.sessionNotFound,
        'Requested reconnect session was not found or the reconnect token provided by the client was invalid.',
      );
    }
    // The old connection may still look alive here: drop it so nothing more is sent on it.
    found.transport.disconnect('Client reconnected on a new connection', true);
    const replay = found.transport.reconnect!.cache.sentMessagesFrom(request.lastReceivedSequence + 1);
    if (!replay) {
      return fail(ReconnectFailureReason.serverDroppedMessages, 'Server is unable to re-send messages requested by the client.');
    }
    found.tracer?.emit('info', 'reconnect', `Client reconnected; it lacks our messages from sequence ${request.lastReceivedSequence + 1}`, {
      lastReceivedSequence: request.lastReceivedSequence,
    });
    const serverKey = { mac: transport.algorithms?.macServerToClient, key: transport.integrityKeys?.serverToClient ?? new Uint8Array(0) };
    const response = encodeReconnectResponse({
      serverReconnectToken: reconnectToken(serverKey, found.sessionId!, current),
      lastReceivedSequence: found.transport.reconnect!.lastReceivedSequence,
    });
    // The resumed session is authenticated: delayed compression starts after SUCCESS, as after USERAUTH_SUCCESS.
    void transport.sendStartingCompression(response).catch(() => {});
    const release = transport.holdOutbound();
    this.releaseTransport('Client reconnected to another session');
    found.adoptTransport(transport, replay);
    releaseAfterPeerReplay(() => transport.metrics.packetsReceived, release);
  }

  protected override startWithoutAuthentication(): void {
    this.#auth?.cancelTimeout();
    super.startWithoutAuthentication();
  }

  protected routeAuthentication(payload: Uint8Array): boolean {
    if (this.#auth?.handleMessage(payload)) return true;
    if (payload[0] === MessageType.ServiceRequest && this.isAuthenticated) {
      // RFC 4253 §10: services other than ssh-userauth, registered with a serviceRequest activation.
      const { serviceName } = decode(ServiceRequest, payload);
      if (this.connection?.activateServiceRequest(serviceName)) {
        void this.transport.send(encode(ServiceAccept, { serviceName })).catch(() => {});
      } else {
        void this.close(DisconnectReason.serviceNotAvailable, `Service ${serviceName} is not available`);
      }
      return true;
    }
    return false;
  }

  protected endAuthentication(error: Error): void {
    // The authentication service turns the session error into an AuthenticationError (with cause).
    if (this.#auth) this.#auth.close(error);
    else this.#rejectAuthenticated(error);
  }
}
