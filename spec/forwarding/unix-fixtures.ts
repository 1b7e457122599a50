/**
 * Real Unix-domain socket peers for the socket forwarding specs: a half-close aware echo server
 * on a path in a fresh temporary directory, and a client that sends, half-closes and collects.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exchangeOn, startServer } from './tcp-fixtures.js';

/** A temporary directory for socket files; `remove()` deletes it and everything in it. */
export function socketDirectory(): { path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-streams-sock-'));
  return { path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An echo server listening on `path`. */
export async function startUnixEchoServer(path: string): Promise<{ server: Server; accepted: () => number; close: () => Promise<void> }> {
  const echo = await startServer((socket) => socket.pipe(socket), path);
  return { server: echo.server, accepted: () => echo.accepted, close: echo.close };
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
