/**
 * socketToDuplex's writable over a real 127.0.0.1 connection: the chunks of one turn leave in one
 * writev, bulk ones included; a peer that stops reading pushes back once the socket holds the cork
 * limit, and every byte arrives in order once it reads again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { socketToDuplex } from '../../lib/tcp/socket-duplex.js';

const opened: { server: Server; sockets: Socket[] }[] = [];

afterEach(async () => {
  for (const { server, sockets } of opened.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A connected pair: `client` (ours) and `peer` (the far end, paused until the test reads). */
async function connectedPair(): Promise<{ client: Socket; peer: Socket }> {
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
function countWrites(socket: Socket): { writes: number; writevChunks: number[] } {
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
function readAll(peer: Socket, n: number): Promise<Buffer> {
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

function patterned(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('socketToDuplex writable', () => {
  it('sends the chunks written in one turn in one writev, small and bulk alike, and in order', async () => {
    const { client, peer } = await connectedPair();
    const seen = countWrites(client);
    const writer = socketToDuplex(client).writable.getWriter();
    const chunks = [patterned(100, 1), patterned(32 * 1024 + 20, 2), patterned(32 * 1024 + 20, 3), patterned(37, 4)];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const received = readAll(peer, total);
    await Promise.all(chunks.map((chunk) => writer.write(chunk)));
    expect(Buffer.compare(await received, Buffer.concat(chunks))).toBe(0);
    expect(seen.writes).toBe(0);
    expect(seen.writevChunks).toEqual([4]);
  });

  it('pushes back while the peer does not read, holding at most the cork limit and a chunk, then delivers everything', async () => {
    const { client, peer } = await connectedPair();
    const writer = socketToDuplex(client).writable.getWriter();
    const chunk = 64 * 1024;
    const sent: Uint8Array[] = [];
    let blocked = false;
    let peakHeld = 0;
    // Far more than the kernel's buffers on loopback take: a write must end up waiting.
    for (let i = 0; i < 2000 && !blocked; i++) {
      const data = patterned(chunk, i);
      sent.push(data);
      const write = writer.write(data);
      peakHeld = Math.max(peakHeld, client.writableLength);
      const settled = await Promise.race([write.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 50))]);
      blocked = !settled;
    }
    expect(blocked).toBe(true);
    expect(peakHeld).toBeLessThanOrEqual(256 * 1024 + chunk);
    const total = sent.length * chunk;
    const received = await readAll(peer, total);
    await writer.ready;
    expect(received.length).toBe(total);
    expect(Buffer.compare(received, Buffer.concat(sent))).toBe(0);
  });

  it('rejects a write that waits for the peer when the socket closes', async () => {
    const { client } = await connectedPair();
    const writer = socketToDuplex(client).writable.getWriter();
    let pending: Promise<void> | undefined;
    for (let i = 0; i < 2000 && pending === undefined; i++) {
      const write = writer.write(patterned(64 * 1024, i));
      const settled = await Promise.race([write.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 50))]);
      if (!settled) pending = write;
    }
    expect(pending).toBeDefined();
    const outcome = pending!.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    client.destroy();
    expect(await outcome).toMatch(/closed/i);
  });
});
