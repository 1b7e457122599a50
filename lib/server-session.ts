/**
 * The server side of a session: signs the key exchange with its host keys, authenticates the
 * client through `onAuthenticating` (no handler = every attempt refused), and serves the
 * connection protocol only after success (RFC 4252 §6).
 */
import { DisconnectReason } from './errors.js';
import { SessionConfig } from './config.js';
import { MessageType, ServiceAccept, ServiceRequest } from './codec/messages/transport.js';
import { decode, encode } from './codec/schema.js';
import type { Duplex } from './transport/transport.js';
import type { KeyPair } from './keys/key-pair.js';
import { ServerAuthentication } from './auth/server.js';
import type { AuthenticationResult, ServerAuthenticatingHandler } from './auth/types.js';
import { SshSession, type ConnectOptions } from './ssh-session.js';

/** Options of a ServerSession. */
export interface ServerSessionOptions {
  /** Host keys; one per key type at most is used. */
  hostKeys: readonly KeyPair[];
  /** RFC 4252 §5.4 banner shown to clients before authentication. */
  banner?: string;
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

  /** The authenticated user name. */
  get username(): string | undefined {
    return this.#auth?.result?.username;
  }

  get isAuthenticated(): boolean {
    return this.#auth?.isAuthenticated ?? false;
  }

  /** Version exchange and key exchange; the authentication timeout starts here. */
  override async connect(duplex: Duplex, options: ConnectOptions = {}): Promise<void> {
    const auth = new ServerAuthentication(this.authTransport(), {
      onAuthenticating: (e) => (this.onAuthenticating ? this.onAuthenticating(e) : false),
      banner: this.#options.banner,
    });
    auth.onAuthenticated = (result) => {
      this.startConnection();
      this.onAuthenticated?.(result);
    };
    auth.authenticated.then(this.#resolveAuthenticated, this.#rejectAuthenticated);
    this.#auth = auth;
    await super.connect(duplex, options);
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
