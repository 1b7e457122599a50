/**
 * TcpServer: accepts server sessions over TCP (node:net), the convenience wrapper of the reference
 * library. One ServerSession per connection; a failing session never affects the others.
 */
import { createServer, type Server } from 'node:net';
import { SessionConfig } from '../config.js';
import { ServerSession } from '../server-session.js';
import type { MaybeCertifiedKey } from '../keys/certified-key.js';
import type { ServerAuthenticatingHandler } from '../auth/types.js';
import { socketToDuplex } from './socket-duplex.js';

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

  /** Stops listening and closes every session. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.close();
    await Promise.all([...this.sessions].map((s) => s.close()));
    await this.#closed;
  }

  #accept(socket: import('node:net').Socket): void {
    const session = new ServerSession(this.config, {
      hostKeys: this.credentials.hostKeys,
      reconnectableSessions: this.reconnectableSessions,
      ...(socket.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}),
    });
    session.onAuthenticating = (e) => (this.onSessionAuthenticating ? this.onSessionAuthenticating(e) : false);
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
