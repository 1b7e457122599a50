/**
 * The node:net side of Unix-domain socket forwarding (OpenSSH PROTOCOL §2.4): listening on a
 * socket path and connecting to one. An existing file at the path is never replaced, as OpenSSH's
 * default (StreamLocalBindUnlink no): the listen fails instead. Knows nothing of channels.
 */
import type { Server, Socket } from 'node:net';
import { net } from './net-backend.js';

/**
 * Listens on the Unix-domain socket `path`. Connections start paused and half-open capable, so
 * nothing is read before a channel exists.
 * @param path the socket path to create
 * @returns the listening server (closing it removes the socket file)
 * @throws Error from node:net (EADDRINUSE when the path exists, EACCES, ENOENT for a missing directory)
 */
export function listenUnix(path: string): Promise<Server> {
  const server = net().createServer({ allowHalfOpen: true, pauseOnConnect: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Connects to the Unix-domain socket `path`.
 * @param path the socket path
 * @returns the connected socket, paused and half-open capable
 * @throws Error from node:net (ENOENT, ECONNREFUSED, EACCES)
 */
export function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net().connect({ path, allowHalfOpen: true });
    socket.pause();
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
