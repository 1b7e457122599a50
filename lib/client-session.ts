/**
 * The client side of a session: verifies the server's host key through `onAuthenticating`
 * (no handler, or a falsy answer, refuses the connection), authenticates the user (RFC 4252),
 * then serves the connection protocol.
 */
import { AuthenticationError, DisconnectReason, HostKeyError, ReconnectError, ReconnectFailureReason, SshError } from './errors.js';
import { SessionConfig } from './config.js';
import type { ByteStream, Transport } from './transport/transport.js';
import { MessageType } from './codec/messages/transport.js';
import { reconnectToken, verifyReconnectToken } from './transport/reconnect/tokens.js';
import { decodeReconnectFailure, decodeReconnectResponse, encodeReconnectRequest } from './transport/reconnect/messages.js';
import type { KeyPair } from './keys/key-pair.js';
import { getFingerprint } from './keys/fingerprint.js';
import { checkCertificate, type Certificate } from './keys/certificate.js';
import { ClientAuthentication } from './auth/client.js';
import type { AuthenticationType, ClientCredentials } from './auth/types.js';
import { SshSession, type ConnectOptions } from './ssh-session.js';

/** What a client's `onAuthenticating` handler sees: the server's host key, to accept or refuse. */
export interface ClientAuthenticatingEvent {
  readonly authenticationType: 'serverPublicKey';
  /** The server's host key; its signature over the exchange hash is already verified. */
  readonly publicKey: KeyPair;
  /** The host key algorithm that signed (e.g. `ssh-ed25519`, or `ssh-ed25519-cert-v01@openssh.com`). */
  readonly publicKeyAlgorithm: string;
  /**
   * The server's host certificate (PROTOCOL.certkeys) when one was negotiated: its CA signature,
   * type (host) and validity window are already checked; `publicKey` is the key it certifies.
   * Trusting `certificate.signatureKey` and matching `principals` to the host name are the handler's.
   */
  readonly certificate?: Certificate;
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
  #reconnecting = false;
  /** Reconnect attempts since `#lostTransport` was lost (diagnostics). */
  #attempts = 0;
  #lostTransport: Transport | undefined;

  constructor(config: SessionConfig = SessionConfig.default()) {
    super(config, { isServer: false });
    this.#auth = new ClientAuthentication(this.authTransport(), {
      onBanner: (message, languageTag) => this.onBanner?.(message, languageTag),
    });
  }

  /** The server's host certificate, when the key exchange used one (checked once `connect` resolved). */
  get hostCertificate(): Certificate | undefined {
    return this.transport.hostCertificate;
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
  override async connect(duplex: ByteStream, options: ConnectOptions = {}): Promise<void> {
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
    else if (this.tracer !== undefined) {
      const tried = this.#auth.methodsTried.join(',');
      const canContinue = this.#auth.methodsThatCanContinue ?? [];
      this.tracer.emit('info', 'auth', `No authentication method left to try (tried ${tried || 'none'}; server allows ${canContinue.join(',') || 'none'})`, {
        methodsTried: this.#auth.methodsTried,
        methodsThatCanContinue: canContinue,
      });
    }
    return ok;
  }

  /**
   * Notes §2.3.5: resumes a disconnected session (reconnection enabled on both sides) over a new
   * byte stream: full key exchange, same server host key, reconnect tokens, then the messages
   * either side never received are replayed. Channels continue where they were.
   * @throws ReconnectError when the server refuses or a check fails (the session stays
   *   disconnected and reconnect may be retried, except after clientDroppedMessages (104), which
   *   ends the session); SshError when the new stream fails
   */
  async reconnect(duplex: ByteStream, options: ConnectOptions = {}): Promise<void> {
    const previous = this.transport;
    if (previous.isClosed) throw new SshError('Cannot reconnect: the session is closed');
    if (this.#reconnecting) throw new SshError('Cannot reconnect: a reconnect is already in progress');
    if (!previous.isDisconnected) {
      throw new SshError(previous.isConnected ? 'Cannot reconnect: the session is still connected' : 'Cannot reconnect: reconnection was not enabled for this session');
    }
    this.#reconnecting = true;
    this.#attempts = previous === this.#lostTransport ? this.#attempts + 1 : 1;
    this.#lostTransport = previous;
    this.tracer?.emit('info', 'reconnect', `Reconnect attempt ${this.#attempts}`, { attempt: this.#attempts });
    const next = this.createTransport();
    try {
      await next.connect(duplex, options);
      if (!next.hostKey || !previous.hostKey?.equals(next.hostKey)) {
        throw new ReconnectError(ReconnectFailureReason.differentServerHostKey, `The server host key is different (${next.hostKey?.keyType ?? 'none'})`);
      }
      await extensionsOf(next);
      // config.reconnectTimeout may have closed the session meanwhile: then there is nothing to resume.
      if (previous.isClosed) throw new SshError('Cannot reconnect: the session closed while reconnecting');
      await this.#reconnectHandshake(previous, next);
    } catch (error) {
      this.tracer?.emit('info', 'reconnect', `Reconnect attempt ${this.#attempts} failed: ${(error as Error).message}`, {
        attempt: this.#attempts,
        error: (error as Error).message,
        ...(error instanceof ReconnectError ? { reasonCode: error.reason } : {}),
      });
      next.onClose = () => {};
      void next.close(DisconnectReason.byApplication, 'Reconnect failed');
      // The server resumed before we found our cache short, and the messages it lacks are gone
      // for good: no later reconnect can succeed, so the session ends now rather than at the timeout.
      if (error instanceof ReconnectError && error.reason === ReconnectFailureReason.clientDroppedMessages) {
        await this.close(DisconnectReason.protocolError, error.message);
      }
      throw error;
    } finally {
      this.#reconnecting = false;
    }
  }

  /** Notes §2.3.5 steps 4-8: request, reply, token check and replay, in the turn the reply arrives. */
  #reconnectHandshake(previous: Transport, next: Transport): Promise<void> {
    const sessionIds = { previous: previous.sessionId!, current: next.sessionId! };
    const clientKey = { mac: next.algorithms?.macClientToServer, key: next.integrityKeys?.clientToServer ?? new Uint8Array(0) };
    const serverKey = { mac: next.algorithms?.macServerToClient, key: next.integrityKeys?.serverToClient ?? new Uint8Array(0) };
    const token = reconnectToken(clientKey, sessionIds.previous, sessionIds.current);
    return new Promise<void>((resolve, reject) => {
      // Silent after the request until the reply: both sides start delayed compression there.
      const releaseEnable = next.deferReconnectEnable();
      next.onClose = (info) => reject(info.error ?? new SshError(`Connection closed during reconnect: ${info.description}`));
      // Once EXT_INFO negotiated reconnection on `next`, a dying stream disconnects it instead of closing it.
      next.onDisconnected = reject;
      const closedMeanwhile = (): SshError => new SshError('Cannot reconnect: the session closed while reconnecting');
      previous.closed.then(() => reject(closedMeanwhile()), () => reject(closedMeanwhile()));
      next.onMessage = (payload) => {
        const type = payload[0];
        if (type !== MessageType.RequestSuccess && type !== MessageType.RequestFailure) return false;
        next.onMessage = () => false;
        try {
          if (previous.isClosed) throw closedMeanwhile();
          if (type === MessageType.RequestFailure) {
            const failure = decodeReconnectFailure(payload);
            throw new ReconnectError(failure.reason, failure.description);
          }
          const response = decodeReconnectResponse(payload);
          if (!verifyReconnectToken(serverKey, sessionIds, response.serverReconnectToken)) {
            throw new ReconnectError(ReconnectFailureReason.invalidServerReconnectToken, 'The reconnect token of the server is invalid');
          }
          const replay = previous.reconnect!.cache.sentMessagesFrom(response.lastReceivedSequence + 1);
          if (!replay) {
            throw new ReconnectError(ReconnectFailureReason.clientDroppedMessages, `Messages from sequence ${response.lastReceivedSequence + 1} are no longer cached`);
          }
          // The server compresses everything after its SUCCESS, and inflates everything after our request.
          next.startDelayedCompression();
          // Switching here, before the next packet is read, routes the server's replay to the session.
          this.adoptTransport(next, replay);
          // After the switch, so the enable request is kept in the send cache: the server has
          // resumed, and if this connection dies before it reads the request, the next reconnect
          // asks for that sequence number (the cache holds its place; it is never replayed).
          releaseEnable();
          resolve();
        } catch (error) {
          reject(error);
        }
        return true;
      };
      void next.send(encodeReconnectRequest({ clientReconnectToken: token, lastReceivedSequence: previous.reconnect!.lastReceivedSequence })).catch(reject);
    });
  }

  async #verifyHostKey(): Promise<void> {
    const publicKey = this.transport.hostKey;
    if (!publicKey && this.transport.algorithms?.kex === 'none') {
      // SessionConfig.noSecurity(): kex `none` has no host key to verify, by configuration.
      this.#hostKeyAccepted = true;
      return;
    }
    if (!publicKey) throw new HostKeyError('The key exchange produced no server host key');
    const certificate = this.transport.hostCertificate;
    let refusal: string | undefined;
    if (certificate) {
      try {
        await checkCertificate(certificate, { type: 'host', now: new Date(this.config.clock()) });
      } catch (error) {
        refusal = `Server host certificate refused: ${(error as Error).message}`;
      }
    }
    let accepted: unknown = false;
    try {
      if (refusal === undefined) {
        accepted = await this.onAuthenticating?.({
          authenticationType: 'serverPublicKey',
          publicKey,
          publicKeyAlgorithm: this.transport.algorithms!.serverHostKey,
          ...(certificate ? { certificate } : {}),
        });
      }
    } catch {
      accepted = false;
    }
    this.tracer?.emit('info', 'auth', `Server host key ${accepted ? 'accepted' : 'refused'}: ${publicKey.keyType} ${getFingerprint(publicKey)}`, {
      accepted: Boolean(accepted),
      hostKeyFingerprint: getFingerprint(publicKey),
      ...(certificate ? { certificateKeyId: certificate.keyId } : {}),
      ...(refusal ? { refusal } : {}),
    });
    if (!accepted) {
      const error = new HostKeyError(
        refusal ??
          (this.onAuthenticating
            ? `Server host key ${certificate?.certificateType ?? publicKey.keyType} was refused by onAuthenticating`
            : 'No onAuthenticating handler verified the server host key'),
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

/**
 * Notes §2.3.5 allow the reconnect request before or after the enable exchange; we wait for the
 * server's EXT_INFO so that our enable request (sent when it arrives) precedes the request. The
 * server then reads it before it resumes, and a Dev Tunnels server, which caches nothing it sends
 * until the enable arrives, keeps everything it sends after resuming.
 */
function extensionsOf(transport: Transport): Promise<void> {
  if (transport.peerExtensions !== undefined || !transport.peerSendsExtInfo) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    transport.onExtInfo = () => resolve();
    transport.onClose = (info) => reject(info.error ?? new SshError(`Connection closed during reconnect: ${info.description}`));
  });
}
