/** Real 127.0.0.1 socket pairs for the specs of socket writers, and ways to watch their writes. */
import { createServer, connect, type Server, type Socket } from 'node:net';

const opened: { server: Server; sockets: Socket[] }[] = [];

/** Destroys every pair `connectedPair` made and closes its listener (an `afterEach`). */
export async function closeSocketPairs(): Promise<void> {
  for (const { server, sockets } of opened.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A connected pair: `client` (ours) and `peer` (the far end, paused until the test reads). */
export async function connectedPair(): Promise<{ client: Socket; peer: Socket }> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const peer = await accepted;
  peer.pause();
  opened.push({ server, sockets: [client, peer] });
  return { client, peer };
}

/** Counts the socket's write calls into libuv: one `_write` or `_writev` is one system call's worth. */
export function countWrites(socket: Socket): { writes: number; writevChunks: number[] } {
  const seen = { writes: 0, writevChunks: [] as number[] };
  const target = socket as unknown as { _write: (...args: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void };
  const write = target._write.bind(socket);
  const writev = target._writev.bind(socket);
  target._write = (...args) => {
    seen.writes++;
    write(...args);
  };
  target._writev = (chunks, cb) => {
    seen.writevChunks.push(chunks.length);
    writev(chunks, cb);
  };
  return seen;
}

/** Reads `n` bytes from `peer`. */
export function readAll(peer: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    peer.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= n) resolve(Buffer.concat(parts));
    });
    peer.once('error', reject);
    peer.resume();
  });
}

/** `length` bytes in a pattern that differs per seed. */
export function patterned(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}
