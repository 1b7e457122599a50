/**
 * In-memory and loopback byte pipes for specs: two `{ readable, writable }` ends crossed so that
 * bytes written on one end are read on the other. The in-memory pair keeps Web Streams semantics
 * (bounded queues, close and abort propagation); the TCP pair runs over real 127.0.0.1 sockets.
 * Owns no protocol knowledge; framing and SSH live in `lib/`.
 */
import { createServer, connect, type Socket } from 'node:net';
import { Duplex as NodeDuplex } from 'node:stream';

/** The byte stream every session runs over (the shape of the public `Duplex`). */
export interface ByteDuplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** Options of {@link duplexPair}. */
export interface DuplexPairOptions {
  /** Bytes each direction queues on its write side and again on its read side before writers wait. */
  highWaterMark?: number;
  /** Keep the writer's buffers instead of copying each chunk (a copy mimics a real socket). */
  noCopy?: boolean;
}

/** Byte counters of one direction of a {@link duplexPair}. */
export interface PipeStats {
  chunks: number;
  bytes: number;
}

/** Two crossed ends plus per-direction counters (`aToB` counts what `a.writable` accepted). */
export type DuplexPair = [a: ByteDuplex, b: ByteDuplex] & { stats: { aToB: PipeStats; bToA: PipeStats } };

/**
 * One direction: a readable and a writable sharing the readable's queue. Written by hand rather
 * than as an identity TransformStream, whose node 20 implementation throws when its readable is
 * cancelled while a write is pending.
 */
function oneWay(options: DuplexPairOptions, stats: PipeStats): ByteDuplex {
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  let readController!: ReadableStreamDefaultController<Uint8Array>;
  let writeController!: WritableStreamDefaultController;
  // The write the reader has not made room for yet: settled by pull() or by cancel().
  let blocked: { resolve: () => void; reject: (reason: unknown) => void } | undefined;
  const release = (reason?: unknown): void => {
    const waiter = blocked;
    blocked = undefined;
    if (waiter === undefined) return;
    if (reason === undefined) waiter.resolve();
    else waiter.reject(reason);
  };
  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readController = controller;
      },
      pull() {
        release();
      },
      cancel(reason) {
        const error = reason ?? new Error('Peer cancelled the readable');
        writeController.error(error);
        release(error);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  const writable = new WritableStream<Uint8Array>(
    {
      start(controller) {
        writeController = controller;
      },
      write(chunk) {
        stats.chunks += 1;
        stats.bytes += chunk.byteLength;
        readController.enqueue(options.noCopy ? chunk : chunk.slice());
        if (readController.desiredSize! > 0) return undefined;
        return new Promise<void>((resolve, reject) => (blocked = { resolve, reject }));
      },
      close() {
        readController.close();
      },
      abort(reason) {
        readController.error(reason);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  return { readable, writable };
}

/**
 * Two byte duplexes crossed in memory. Closing a writable closes the peer's readable after its
 * queued bytes; aborting it errors the peer's readable with the abort reason; cancelling a
 * readable errors the peer's writable. Writers wait once about `2 * highWaterMark` bytes are unread.
 * @param options queue size and copy behaviour
 * @returns `[a, b]` where `a.writable` feeds `b.readable` and `b.writable` feeds `a.readable`
 */
export function duplexPair(options: DuplexPairOptions = {}): DuplexPair {
  const aToB: PipeStats = { chunks: 0, bytes: 0 };
  const bToA: PipeStats = { chunks: 0, bytes: 0 };
  const forward = oneWay(options, aToB);
  const backward = oneWay(options, bToA);
  const pair = [
    { readable: backward.readable, writable: forward.writable },
    { readable: forward.readable, writable: backward.writable },
  ] as DuplexPair;
  pair.stats = { aToB, bToA };
  return pair;
}

/** Two ends of a real 127.0.0.1 TCP connection, as Web Streams, with the sockets underneath. */
export interface TcpPair {
  client: ByteDuplex;
  server: ByteDuplex;
  clientSocket: Socket;
  serverSocket: Socket;
  /** Destroys both sockets. */
  close(): void;
}

/**
 * A TCP connection over 127.0.0.1 on a fresh port, both ends converted with `stream.Duplex.toWeb`.
 * On node 20 the converted streams do not support half-close: a readable ends only once its socket
 * is fully closed, so closing either writable ends the whole connection, and writing after that
 * raises an AbortError the adapter cannot route to a promise. SSH never half-closes TCP.
 * @returns the connected pair; the listening socket is already closed
 */
export async function tcpPair(): Promise<TcpPair> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`Unexpected server address ${String(address)}`);
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const clientSocket = connect({ port: address.port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    clientSocket.once('connect', resolve);
    clientSocket.once('error', reject);
  });
  const serverSocket = await accepted;
  server.close();
  clientSocket.setNoDelay(true);
  serverSocket.setNoDelay(true);
  return {
    client: toByteDuplex(clientSocket),
    server: toByteDuplex(serverSocket),
    clientSocket,
    serverSocket,
    close() {
      clientSocket.destroy();
      serverSocket.destroy();
    },
  };
}

/**
 * Converts a node socket (or any node Duplex) to a {@link ByteDuplex}.
 * @param socket the node stream
 * @returns its Web Streams view
 */
export function toByteDuplex(socket: NodeDuplex): ByteDuplex {
  // node:stream/web and the DOM lib declare the same classes under different names.
  return NodeDuplex.toWeb(socket) as unknown as ByteDuplex;
}

/**
 * Reads a stream to its end and joins the chunks.
 * @param readable the byte stream
 * @returns every byte it produced, in order
 */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readable as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return concatBytes(chunks);
}

/**
 * Joins byte arrays into one.
 * @param chunks the parts, in order
 * @returns a fresh array holding all of them
 */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * Lets every already-queued promise job and stream operation settle, so a spec can assert that
 * nothing happened without a timer.
 * @param rounds macrotask turns to wait (each drains the microtask queue)
 */
export async function flushAsyncEvents(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
