/**
 * Real TCP peers on 127.0.0.1 for the forwarding specs: an echo server (half-close aware), a
 * server that answers only after the client's FIN, TCP clients that send and collect, and a
 * polling wait for counters that settle asynchronously (sockets closing, listeners stopping).
 */
import { SessionConfig } from '../../lib/config.js';
import { addPortForwardingService } from '../../lib/forwarding/index.js';
import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A TCP server under test control, with the sockets it currently holds. */
export interface TestServer {
  port: number;
  server: Server;
  /** Accepted sockets not yet closed. */
  sockets: Set<Socket>;
  /** Error codes seen on accepted sockets (ECONNRESET, ...). */
  errors: string[];
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

/**
 * A server under test control running `serve` on each connection, listening on 127.0.0.1 (a
 * system-chosen port) or, with `path`, on a Unix-domain socket (then `port` is 0).
 */
export async function startServer(serve: (socket: Socket) => void, path?: string): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const errors: string[] = [];
  const state = { accepted: 0 };
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    state.accepted++;
    sockets.add(socket);
    socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    socket.on('close', () => sockets.delete(socket));
    serve(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (path === undefined) server.listen(0, '127.0.0.1', resolve);
    else server.listen(path, resolve);
  });
  return {
    port: path === undefined ? (server.address() as AddressInfo).port : 0,
    server,
    sockets,
    errors,
    get accepted() {
      return state.accepted;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Echoes every byte; ends its side after the client's FIN and the echo of everything before it. */
export function startEchoServer(): Promise<TestServer> {
  return startServer((socket) => socket.pipe(socket));
}

/** Reads until the client's FIN, then answers `received <n> bytes <sha256>` and ends. */
export function startReplyAfterEndServer(): Promise<TestServer> {
  return startServer((socket) => {
    const hash = createHash('sha256');
    let n = 0;
    socket.on('data', (chunk: Buffer) => {
      n += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => socket.end(`received ${n} bytes ${hash.digest('hex')}`));
  });
}

/** Accepts and holds connections, sending nothing until the test acts. */
export function startSilentServer(): Promise<TestServer> {
  return startServer((socket) => socket.resume());
}

/**
 * Connects a half-open capable client socket to 127.0.0.1.
 * @param port the port
 * @returns the connected socket
 */
export function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * Reads a socket to its FIN.
 * @param socket the socket
 * @returns everything received; rejects on a socket error
 */
export function readToEnd(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/**
 * Connects, sends `data`, half-closes, and collects the answer up to the server's FIN.
 * @param port where to connect
 * @param data what to send
 * @returns the answer
 */
export async function exchange(port: number, data: Uint8Array): Promise<Buffer> {
  return exchangeOn(await tcpConnect(port), data);
}

/**
 * Sends `data` on a connected socket, half-closes, collects the answer up to the peer's FIN, and
 * destroys the socket.
 * @param socket a connected, half-open capable socket (TCP or Unix)
 * @param data what to send
 * @returns the answer
 */
export async function exchangeOn(socket: Socket, data: Uint8Array): Promise<Buffer> {
  const answer = readToEnd(socket);
  socket.end(data);
  try {
    return await answer;
  } finally {
    socket.destroy();
  }
}

/**
 * Resolves once `condition` holds, polling every 10 ms.
 * @param condition what to wait for
 * @param what a description for the timeout error
 * @param timeoutMs how long to wait (default 5 s)
 */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * SHA-256 in hex.
 * @param data the bytes
 * @returns the digest
 */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A default configuration with the port forwarding service registered. */
export function forwardingConfig(): SessionConfig {
  const config = SessionConfig.default();
  addPortForwardingService(config);
  return config;
}

/** Everything a readable yields, as one Buffer. */
export async function collect(readable: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Writes `data` into a channel, sends EOF, and collects what comes back up to the peer's EOF. */
export async function echoThrough(channel: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }, data: Uint8Array): Promise<Buffer> {
  const received = collect(channel.readable);
  const writer = channel.writable.getWriter();
  await writer.write(data);
  await writer.close();
  return received;
}
