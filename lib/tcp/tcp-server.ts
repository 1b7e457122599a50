/**
 * TcpServer: accepts server sessions over TCP (node:net), the convenience wrapper of the reference
 * library. One ServerSession per connection; a failing session never affects the others. Before
 * authentication a connection is admitted by the MaxStartups-style limits of startup-limits.ts;
 * `close()` stops accepting and drains.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DisconnectReason } from '../errors.js';
import { SessionConfig } from '../config.js';
import { ServerSession } from '../server-session.js';
import type { MaybeCertifiedKey } from '../keys/certified-key.js';
import type { ServerAuthenticatingHandler } from '../auth/types.js';
import { socketToDuplex } from './socket-duplex.js';
import { StartupLimiter, defaultMaxStartups, type MaxStartups } from './startup-limits.js';

export type { MaxStartups } from './startup-limits.js';

/** Options of `TcpServer.close`. */
export interface TcpServerCloseOptions {
  /**
   * Milliseconds sessions may take to end by themselves once the server stopped accepting; then
   * the rest are closed (DISCONNECT by application). Default 0: every session is closed at once.
   */
  gracePeriod?: number;
}

/** Host keys of a TcpServer. */
export interface ServerCredentials {
  hostKeys: MaybeCertifiedKey[];
}

/**
 * Accepts SSH server sessions over TCP.
 * @example
 * const server = new TcpServer(SessionConfig.default());
 * server.credentials = { hostKeys: [await generateKeyPair('ssh-ed25519')] };
 * server.onSessionAuthenticating = (e) => e.username === 'admin' && e.password === 'secret';
 * server.onSessionOpened = (session) => { for await (const ch of session.channels) ... };
 * await server.acceptSessions(2222, '127.0.0.1');
 */
export class TcpServer {
  readonly config: SessionConfig;
  credentials: ServerCredentials = { hostKeys: [] };
  /** Authenticates clients of every session (see ServerSession.onAuthenticating). */
  onSessionAuthenticating: ServerAuthenticatingHandler | undefined;
  /** Called for each new session, before its key exchange. */
  onSessionOpened: ((session: ServerSession) => void) | undefined;
  /** Called when a session fails to start (bad client, failed key exchange). */
  onSessionError: ((error: unknown) => void) | undefined;
  /** Sessions accepted and not yet closed. */
  readonly sessions = new Set<ServerSession>();
  /** Sessions clients may reconnect to (reconnection enabled in `config`), see ServerSessionOptions. */
  readonly reconnectableSessions = new Set<ServerSession>();
  /**
   * OpenSSH MaxStartups: past `start` unauthenticated connections a new one is dropped (closed
   * before the version exchange) with a probability rising from `rate` % to 100 % at `full`.
   * Default 10:30:100, OpenSSH's. The login grace time is `config.authenticationTimeout`.
   */
  maxStartups: MaxStartups = { ...defaultMaxStartups };
  /** OpenSSH PerSourceMaxStartups: unauthenticated connections allowed per source address; default no limit. */
  maxStartupsPerSource = Infinity;
  /** Randomness of the MaxStartups drop, in [0, 1) (injected by tests). */
  random: () => number = Math.random;
  /** Called with the source address of each connection dropped by `maxStartups` or `maxStartupsPerSource`. */
  onConnectionDropped: ((remoteAddress: string) => void) | undefined;
  readonly #startups = new StartupLimiter();
  #server: Server | undefined;
  #closed: Promise<void> | undefined;

  constructor(config: SessionConfig = SessionConfig.default()) {
    this.config = config;
  }

  /** The bound port (useful with port 0), once listening. */
  get port(): number | undefined {
    const address = this.#server?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  /** Resolves once the server listens; `acceptSessions` resolves only when it closes. */
  async listen(port: number, host = '0.0.0.0'): Promise<void> {
    if (this.#server) throw new Error('TcpServer is already listening');
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    this.#closed = new Promise((resolve) => server.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Listens on `host:port` and serves sessions until `close()`. */
  async acceptSessions(port: number, host = '0.0.0.0'): Promise<void> {
    await this.listen(port, host);
    await this.#closed;
  }

  /** Connections admitted that have not authenticated yet (what `maxStartups` counts). */
  get unauthenticatedSessions(): number {
    return this.#startups.unauthenticated;
  }

  /**
   * Stops accepting connections, lets sessions end by themselves for `gracePeriod` ms, then
   * closes the rest; resolves once every session and the listener are closed.
   */
  async close(options: TcpServerCloseOptions = {}): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.close();
    const ended = Promise.all([...this.sessions].map((s) => s.closed.catch(() => {})));
    const grace = options.gracePeriod ?? 0;
    if (grace > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, grace)))]);
      clearTimeout(timer);
    }
    await Promise.all([...this.sessions].map((s) => s.close(DisconnectReason.byApplication, 'Server is shutting down')));
    await this.#closed;
  }

  #accept(socket: Socket): void {
    const source = socket.remoteAddress ?? '';
    const admitted = this.#startups.admit(source, { maxStartups: this.maxStartups, perSource: this.maxStartupsPerSource, random: this.random });
    if (!admitted) {
      // sshd closes such connections before its identification line; so do we.
      socket.destroy();
      this.onConnectionDropped?.(source);
      return;
    }
    let counted = true;
    const release = (): void => {
      if (!counted) return;
      counted = false;
      this.#startups.release(source);
    };
    const session = new ServerSession(this.config, {
      hostKeys: this.credentials.hostKeys,
      reconnectableSessions: this.reconnectableSessions,
      ...(socket.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}),
    });
    session.onAuthenticating = (e) => (this.onSessionAuthenticating ? this.onSessionAuthenticating(e) : false);
    // Counted until the connection protocol starts (authenticated, or kex none) or the session
    // ends (a reconnect's temporary session ends once it handed its connection over).
    session.connectionReady.then(release, release);
    this.sessions.add(session);
    session.closed.finally(() => this.sessions.delete(session)).catch(() => {});
    try {
      this.onSessionOpened?.(session);
    } catch (error) {
      this.onSessionError?.(error);
    }
    session.connect(socketToDuplex(socket)).catch((error) => this.onSessionError?.(error));
  }
}
