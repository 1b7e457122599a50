/**
 * The client side of a session: verifies the server's host key through `onAuthenticating`
 * (no handler, or a falsy answer, refuses the connection), authenticates the user (RFC 4252),
 * then serves the connection protocol.
 */
import { AuthenticationError, DisconnectReason, HostKeyError } from './errors.js';
import { SessionConfig } from './config.js';
import type { Duplex } from './transport/transport.js';
import type { KeyPair } from './keys/key-pair.js';
import { ClientAuthentication } from './auth/client.js';
import type { AuthenticationType, ClientCredentials } from './auth/types.js';
import { SshSession, type ConnectOptions } from './ssh-session.js';

/** What a client's `onAuthenticating` handler sees: the server's host key, to accept or refuse. */
export interface ClientAuthenticatingEvent {
  readonly authenticationType: 'serverPublicKey';
  /** The server's host key; its signature over the exchange hash is already verified. */
  readonly publicKey: KeyPair;
  /** The host key algorithm that signed (e.g. `ssh-ed25519`). */
  readonly publicKeyAlgorithm: string;
}

/** How the client authenticated. */
export interface ClientAuthenticationResult {
  readonly username: string;
  readonly method: AuthenticationType;
}

/**
 * An SSH client session over any byte stream.
 * @example
 * const client = new ClientSession(SessionConfig.default());
 * client.onAuthenticating = (e) => e.publicKey.equals(pinnedHostKey);
 * await client.connect(duplex);
 * if (!(await client.authenticate({ username: 'me', password: 'secret' }))) throw new Error('denied');
 * const channel = await client.openChannel();
 */
export class ClientSession extends SshSession {
  /** Decides whether the server's host key is trusted; no handler or a falsy answer refuses it. */
  onAuthenticating: ((e: ClientAuthenticatingEvent) => unknown) | undefined;
  /** RFC 4252 §5.4: the server's banner, to show to the user. */
  onBanner: ((message: string, languageTag: string) => void) | undefined;
  readonly #auth: ClientAuthentication;
  #hostKeyAccepted = false;

  constructor(config: SessionConfig = SessionConfig.default()) {
    super(config, { isServer: false });
    this.#auth = new ClientAuthentication(this.authTransport(), {
      onBanner: (message, languageTag) => this.onBanner?.(message, languageTag),
    });
  }

  /** The server's host key, once the key exchange verified its signature. */
  get hostKey(): KeyPair | undefined {
    return this.transport.hostKey;
  }

  /** True once the user authenticated. */
  get isAuthenticated(): boolean {
    return this.#auth.isAuthenticated;
  }

  /** How the user authenticated, once they have. */
  get authentication(): ClientAuthenticationResult | undefined {
    return this.#auth.result;
  }

  /**
   * Version exchange, key exchange, then host key verification through `onAuthenticating`.
   * @throws HostKeyError when the handler is missing or refuses the key (the session is closed)
   */
  override async connect(duplex: Duplex, options: ConnectOptions = {}): Promise<void> {
    await super.connect(duplex, options);
    await this.#verifyHostKey();
  }

  /**
   * RFC 4252: authenticates the user with whatever credentials are given, following the server's
   * list of methods that can continue. Resolves false when every method failed.
   * @throws AuthenticationError when the session ends during authentication
   */
  async authenticate(credentials: ClientCredentials): Promise<boolean> {
    if (!this.#hostKeyAccepted) throw new AuthenticationError('Connect (and accept the host key) before authenticating');
    const ok = await this.#auth.authenticate(credentials);
    if (ok) this.startConnection();
    return ok;
  }

  async #verifyHostKey(): Promise<void> {
    const publicKey = this.transport.hostKey;
    if (!publicKey && this.transport.algorithms?.kex === 'none') {
      // SessionConfig.noSecurity(): kex `none` has no host key to verify, by configuration.
      this.#hostKeyAccepted = true;
      return;
    }
    if (!publicKey) throw new HostKeyError('The key exchange produced no server host key');
    let accepted: unknown = false;
    try {
      accepted = await this.onAuthenticating?.({
        authenticationType: 'serverPublicKey',
        publicKey,
        publicKeyAlgorithm: this.transport.algorithms!.serverHostKey,
      });
    } catch {
      accepted = false;
    }
    if (!accepted) {
      const error = new HostKeyError(
        this.onAuthenticating
          ? `Server host key ${publicKey.keyType} was refused by onAuthenticating`
          : 'No onAuthenticating handler verified the server host key',
      );
      await this.close(DisconnectReason.hostKeyNotVerifiable, error.message);
      throw error;
    }
    this.#hostKeyAccepted = true;
  }

  protected routeAuthentication(payload: Uint8Array): boolean {
    const handled = this.#auth.handleMessage(payload);
    // Start the connection protocol in the same turn as USERAUTH_SUCCESS: the server may open
    // channels or send global requests in the very next packet.
    if (this.#auth.isAuthenticated) this.startConnection();
    return handled;
  }

  protected endAuthentication(error: Error): void {
    this.#auth.close(error);
  }
}
