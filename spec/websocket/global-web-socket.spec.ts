/**
 * webSocketToDuplex on the runtime's own WHATWG WebSocket client (`globalThis.WebSocket`: Node
 * 22+'s, Bun's, Deno's; Node 20's behind --experimental-websocket, which vitest.config.ts passes
 * there), against a `ws` server on 127.0.0.1. It runs in the main suite and in the runtime matrix
 * (.ci/runtimes), and fails, never skips, where the runtime has no global WebSocket. Backpressure is
 * made by a TCP relay between the two that stops reading, so no runtime's socket internals are
 * touched.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { SshError } from '../../lib/errors.js';
import { webSocketToDuplex, type WebSocketLike } from '../../lib/websocket/web-socket-duplex.js';
import { sessionPair } from '../helpers/pairs.js';
import { createDeterministicRandom } from '../helpers/random.js';

const runtime = 'Bun' in globalThis ? 'Bun' : 'Deno' in globalThis ? 'Deno' : `Node ${process.versions.node}`;
const NativeWebSocket = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;

/** The runtime's global WebSocket; a runtime without one fails every test here rather than skipping. */
function openNative(url: string): WebSocketLike {
  if (NativeWebSocket === undefined) throw new Error(`${runtime} has no global WebSocket: this spec needs one (Node 20 needs --experimental-websocket)`);
  return new NativeWebSocket(url);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A `ws` server on 127.0.0.1; `accepted` yields its side of each connection. */
async function listen(): Promise<{ port: number; accepted: () => Promise<WsSocket> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const queue: WsSocket[] = [];
  const waiting: ((ws: WsSocket) => void)[] = [];
  server.on('connection', (ws) => {
    const next = waiting.shift();
    if (next) next(ws);
    else queue.push(ws);
  });
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => {
      const ws = queue.shift();
      return ws ? Promise.resolve(ws) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** A TCP relay to `port` whose client-to-server direction can be paused (its reads stop). */
async function relay(port: number): Promise<{ port: number; pause(): void; resume(): void }> {
  const downstream: Socket[] = [];
  const server: Server = createServer((client) => {
    downstream.push(client);
    const upstream = new (client.constructor as typeof Socket)();
    upstream.connect(port, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of downstream) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port: (server.address() as AddressInfo).port,
    pause: () => downstream.forEach((socket) => socket.pause()),
    resume: () => downstream.forEach((socket) => socket.resume()),
  };
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of readable) parts.push(part);
  return Buffer.concat(parts);
}

async function opened(ws: WebSocketLike): Promise<void> {
  if (ws.readyState === 1) return;
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', reject);
  });
}

/** Whether `promise` is still pending after a few timer turns. */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  return !settled;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe(`webSocketToDuplex on the global WebSocket of ${runtime}`, () => {
  it('is a WHATWG WebSocket client of this runtime, not the ws package', () => {
    expect(NativeWebSocket, `${runtime} must provide globalThis.WebSocket`).toBeTypeOf('function');
    const ws = openNative('ws://127.0.0.1:9/');
    expect(ws.readyState).toBe(0);
    ws.addEventListener('error', () => undefined);
    ws.close();
  });

  it('carries an SSH session: exec request, 4 MiB echoed through a channel with SHA-256, exit status', async () => {
    const { port, accepted } = await listen();
    const clientSide = webSocketToDuplex(openNative(`ws://127.0.0.1:${port}/ssh`));
    const serverSide = webSocketToDuplex(await accepted());
    const { client, server } = await sessionPair({ link: [clientSide, serverSide] });

    const [channel, served] = await Promise.all([client.openChannel(), server.acceptChannel()]);
    served.onRequest = (e) => e.requestType === 'exec' && e.command === 'echo';
    expect(await channel.exec('echo')).toBe(true);
    const data = createDeterministicRandom(`global websocket ${runtime}`).bytes(4 * 1024 * 1024 + 5);
    const echoed = (async () => {
      await served.readable.pipeTo(served.writable, { preventClose: true });
      await served.close({ exitStatus: 0 });
    })();
    const writing = (async () => {
      const writer = channel.writable.getWriter();
      for (let at = 0; at < data.length; at += 200_000) await writer.write(data.subarray(at, at + 200_000));
      await writer.close();
    })();
    const back = await readAll(channel.readable);
    await Promise.all([writing, echoed]);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    expect((await channel.closed).exitStatus).toBe(0);
    await client.close();
    await server.closed;
  });

  it('holds writes while bufferedAmount is above the high-water mark and releases them once the socket drains', async () => {
    const { port, accepted } = await listen();
    const gate = await relay(port);
    const ws = openNative(`ws://127.0.0.1:${gate.port}/`);
    const duplex = webSocketToDuplex(ws, { highWaterMark: 256 * 1024 });
    const peer = await accepted();
    await opened(ws);
    let received = 0;
    peer.on('message', (data: Buffer) => (received += data.length));
    gate.pause();

    const writer = duplex.writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let blocked: Promise<void> | undefined;
    let written = 0;
    for (let i = 0; i < 400 && !blocked; i++) {
      const write = writer.write(chunk);
      written += chunk.length;
      if (await stillPending(write)) blocked = write;
    }
    expect(blocked, `a write must wait once ${runtime}'s socket buffers more than the high-water mark`).toBeDefined();
    expect(ws.bufferedAmount).toBeGreaterThan(256 * 1024);
    gate.resume();
    await blocked;
    expect(ws.bufferedAmount).toBeLessThanOrEqual(64 * 1024);
    await writer.close();
    await expect.poll(() => received, { timeout: 20_000 }).toBe(written);
  });

  it('ends the readable on a normal close (1000) from the server, after the frames before it', async () => {
    const { port, accepted } = await listen();
    const duplex = webSocketToDuplex(openNative(`ws://127.0.0.1:${port}/`));
    const peer = await accepted();
    peer.send(Buffer.from('last words'));
    peer.close(1000);
    expect(Buffer.from(await readAll(duplex.readable)).toString()).toBe('last words');
    await expect(duplex.writable.getWriter().write(new Uint8Array(1))).rejects.toThrow(SshError);
  });

  it('errors both streams with the code and reason of an abnormal close', async () => {
    const { port, accepted } = await listen();
    const duplex = webSocketToDuplex(openNative(`ws://127.0.0.1:${port}/`));
    const peer = await accepted();
    const reading = readAll(duplex.readable);
    peer.close(4001, 'going away now');
    await expect(reading).rejects.toThrow(/WebSocket closed: code 4001 \(going away now\)/);
    await expect(duplex.writable.getWriter().write(new Uint8Array(1))).rejects.toThrow(SshError);
  });

  it('errors both streams when the connection drops without a close frame', async () => {
    const { port, accepted } = await listen();
    const duplex = webSocketToDuplex(openNative(`ws://127.0.0.1:${port}/`));
    const peer = await accepted();
    const reading = readAll(duplex.readable);
    peer.terminate();
    // RFC 6455 §7.1.5 says 1006; Deno 2.9's close event reports code 0 here.
    await expect(reading).rejects.toThrow(`WebSocket closed: code ${'Deno' in globalThis ? 0 : 1006}`);
    await expect(duplex.writable.getWriter().write(new Uint8Array(1))).rejects.toThrow(SshError);
  });

  it('errors the readable on a text frame', async () => {
    const { port, accepted } = await listen();
    const duplex = webSocketToDuplex(openNative(`ws://127.0.0.1:${port}/`));
    const peer = await accepted();
    const closed = new Promise<[number, string]>((resolve) => peer.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    peer.send('not binary');
    await expect(readAll(duplex.readable)).rejects.toThrow(/string frame; SSH over WebSocket uses binary frames only/);
    // 1003 (unsupported data) where the runtime lets a script send it (Bun); WHATWG sockets may not, and close with 1000.
    const [code, reason] = await closed;
    expect([1000, 1003]).toContain(code);
    expect(reason).toBe('binary frames only');
  });

  it('rejects writes and errors the readable when the server is not there', async () => {
    const { port } = await relay(1);
    const duplex = webSocketToDuplex(openNative(`ws://127.0.0.1:${port}/`));
    await expect(duplex.writable.getWriter().write(new Uint8Array(1))).rejects.toThrow(SshError);
    await expect(readAll(duplex.readable)).rejects.toThrow(/WebSocket (failed to connect|closed before it opened)/);
  });
});
