/**
 * Node's Unix sockets for the agent: dialling `SSH_AUTH_SOCK` and listening on a fresh socket in a
 * private temporary directory (for forwarded agents). Only the Node platform file imports this,
 * so the agent protocol itself imports nothing from Node.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from '../transport/transport.js';
import { socketToDuplex } from '../tcp/socket-duplex.js';
import { AgentError } from './agent-error.js';
import type { AgentSocket, AgentSocketBackend } from './socket-backend.js';

/**
 * Connects to a Unix socket.
 * @throws AgentError naming the path when it cannot be reached
 */
export async function connectUnixSocket(path: string): Promise<Duplex> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (cause) => reject(new AgentError(`Cannot connect to the agent at ${path}: ${cause.message}`, { cause })));
  });
  return socketToDuplex(socket);
}


/**
 * Listens on `agent.<pid>` in a new mode-0700 temporary directory (as sshd does) and hands each
 * connection to `onConnection`.
 */
export async function listenUnixSocket(onConnection: (duplex: Duplex) => void): Promise<AgentSocket> {
  const dir = await mkdtemp(join(tmpdir(), 'ssh-streams-agent-'));
  const path = join(dir, `agent.${process.pid}`);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(socketToDuplex(socket));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } catch (cause) {
    await rm(dir, { recursive: true, force: true });
    throw new AgentError(`Cannot listen on ${path}: ${(cause as Error).message}`, { cause });
  }
  let closing: Promise<void> | undefined;
  return {
    path,
    close: () =>
      (closing ??= (async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

/** The Node socket backend of the agent. */
export const nodeAgentSockets: AgentSocketBackend = { connect: connectUnixSocket, listen: listenUnixSocket };
