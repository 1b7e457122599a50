/**
 * Where the agent gets its Unix sockets from: dialling `SSH_AUTH_SOCK` and listening on a private
 * socket for forwarded agents, installed by the Node platform file. A browser build has none: the
 * agent protocol still runs over any byte pair (an SSH channel, a WebSocket), while socket paths
 * fail with a clear SshError.
 */
import { SshError } from '../errors.js';
import type { Duplex } from '../transport/transport.js';

/** A listening agent socket. */
export interface AgentSocket {
  /** The socket path, for `SSH_AUTH_SOCK`. */
  readonly path: string;
  /** Stops listening, closes open connections and removes the socket's directory. */
  close(): Promise<void>;
}

/** The socket functions the agent uses. */
export interface AgentSocketBackend {
  /** Connects to a Unix socket; rejects with an AgentError naming the path. */
  connect(path: string): Promise<Duplex>;
  /** Listens on a fresh socket in a private directory, handing each connection over. */
  listen(onConnection: (duplex: Duplex) => void): Promise<AgentSocket>;
}

let backend: AgentSocketBackend | undefined;

/**
 * Installs the agent's socket backend; called once by the Node platform file.
 * @param sockets the Unix socket implementation
 */
export function installAgentSockets(sockets: AgentSocketBackend): void {
  backend = sockets;
}

/**
 * The installed socket backend.
 * @throws SshError in runtimes without Unix sockets (the browser build)
 */
export function agentSockets(): AgentSocketBackend {
  if (!backend) {
    throw new SshError('Agent socket paths need node:net, which this runtime does not have (browser build): pass a byte pair instead');
  }
  return backend;
}
