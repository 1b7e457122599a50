/**
 * Real Unix-domain socket peers for the socket forwarding specs: a half-close aware echo server
 * on a path in a fresh temporary directory, and a client that sends, half-closes and collects.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exchangeOn } from './tcp-fixtures.js';

/** A temporary directory for socket files; `remove()` deletes it and everything in it. */
export function socketDirectory(): { path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-streams-sock-'));
  return { path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An echo server listening on `path`. */
export async function startUnixEchoServer(path: string): Promise<{ server: Server; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    server,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects to the socket `path`. */
export function unixConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path, allowHalfOpen: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Connects to `path`, sends `data`, half-closes, and collects the answer up to the server's FIN. */
export async function unixExchange(path: string, data: Uint8Array): Promise<Buffer> {
  return exchangeOn(await unixConnect(path), data);
}
