/**
 * TcpClient: opens client sessions over TCP (node:net), the convenience wrapper of the reference
 * library. Host key verification goes through `onSessionAuthenticating`, which the session
 * consults during connect.
 */
import { connect as netConnect } from 'node:net';
import { SessionConfig } from '../config.js';
import { SshError } from '../errors.js';
import { ClientSession, type ClientAuthenticatingEvent } from '../client-session.js';
import { socketToDuplex } from './socket-duplex.js';
import type { TraceHandler } from '../trace/trace-event.js';

/** Options of `openSession`. */
export interface OpenSessionOptions {
  signal?: AbortSignal;
  /** Overrides `TcpClient.onSessionAuthenticating` for this session. */
  onAuthenticating?: (e: ClientAuthenticatingEvent) => unknown;
  /** The session's `onTrace`, set before it connects (events flow when `config.trace` is on). */
  onTrace?: TraceHandler;
}

/**
 * Opens SSH client sessions over TCP.
 * @example
 * const tcp = new TcpClient(SessionConfig.default());
 * tcp.onSessionAuthenticating = (e) => e.publicKey.equals(knownHostKey);
 * const session = await tcp.openSession('127.0.0.1', 2222);
 */
export class TcpClient {
  readonly config: SessionConfig;
  /** Verifies each server's host key (see ClientSession.onAuthenticating). */
  onSessionAuthenticating: ((e: ClientAuthenticatingEvent) => unknown) | undefined;
  readonly #sessions = new Set<ClientSession>();

  constructor(config: SessionConfig = SessionConfig.default()) {
    this.config = config;
  }

  /**
   * Connects to `host:port` and runs the key exchange.
   * @throws SshError when the TCP connection or the SSH handshake fails
   */
  async openSession(host: string, port = 22, options: OpenSessionOptions = {}): Promise<ClientSession> {
    const session = new ClientSession(this.config);
    session.onAuthenticating = options.onAuthenticating ?? this.onSessionAuthenticating;
    session.onTrace = options.onTrace;
    const duplex = await this.#dial(host, port, options.signal);
    await session.connect(duplex, { signal: options.signal });
    this.#sessions.add(session);
    session.closed.finally(() => this.#sessions.delete(session)).catch(() => {});
    return session;
  }

  /**
   * Notes §2.3.5: resumes a disconnected session over a new TCP connection to `host:port`.
   * @throws ReconnectError when the server refuses (the session stays disconnected: retry later,
   *   except after clientDroppedMessages (104), which ends it); SshError when the TCP connection or
   *   the key exchange fails
   */
  async reconnectSession(session: ClientSession, host: string, port = 22, options: { signal?: AbortSignal } = {}): Promise<void> {
    const duplex = await this.#dial(host, port, options.signal);
    await session.reconnect(duplex, { signal: options.signal });
  }

  /** Closes every session this client opened. */
  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.close()));
  }

  #dial(host: string, port: number, signal?: AbortSignal) {
    return new Promise<ReturnType<typeof socketToDuplex>>((resolve, reject) => {
      const socket = netConnect({ host, port, signal });
      socket.once('connect', () => resolve(socketToDuplex(socket)));
      socket.once('error', (error) => reject(new SshError(`Cannot connect to ${host}:${port}: ${error.message}`, { cause: error })));
    });
  }
}
