import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { SshError } from '../../lib/errors.js';
import { webSocketToDuplex } from '../../lib/websocket/web-socket-duplex.js';
import { sessionPair } from '../helpers/pairs.js';
import { createDeterministicRandom } from '../helpers/random.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A `ws` server on 127.0.0.1 and the URL to reach it; `accepted` yields its side of each connection. */
async function listen(): Promise<{ url: string; accepted: () => Promise<WebSocket> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const queue: WebSocket[] = [];
  const waiting: ((ws: WebSocket) => void)[] = [];
  server.on('connection', (ws) => {
    const next = waiting.shift();
    if (next) next(ws);
    else queue.push(ws);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/ssh`,
    accepted: () => {
      const ws = queue.shift();
      return ws ? Promise.resolve(ws) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of readable) parts.push(part);
  return Buffer.concat(parts);
}

/** Settles `promise` against a few turns of the event loop: 'pending' if it has not settled by then. */
async function stateOf(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  return state;
}

describe('webSocketToDuplex', () => {
  it('carries an SSH session over a socket handed over while still CONNECTING', async () => {
    const { url, accepted } = await listen();
    const clientWs = new WebSocket(url);
    expect(clientWs.readyState).toBe(WebSocket.CONNECTING);
    const clientSide = webSocketToDuplex(clientWs);
    const serverSide = webSocketToDuplex(await accepted());
    const { client, server } = await sessionPair({ link: [clientSide, serverSide] });

    const [channel, served] = await Promise.all([client.openChannel(), server.acceptChannel()]);
    const data = createDeterministicRandom('websocket').bytes(3 * 1024 * 1024 + 17);
    const echoed = served.readable.pipeTo(served.writable);
    const writing = (async () => {
      const writer = channel.writable.getWriter();
      for (let at = 0; at < data.length; at += 100_000) await writer.write(data.subarray(at, at + 100_000));
      await writer.close();
    })();
    const back = await readAll(channel.readable);
    await Promise.all([writing, echoed]);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    await client.close();
    await server.closed;
  });

  it('sends binary frames and turns received frames into bytes', async () => {
    const { url, accepted } = await listen();
    const duplex = webSocketToDuplex(new WebSocket(url));
    const peer = await accepted();
    const frames: { binary: boolean; bytes: Buffer }[] = [];
    peer.on('message', (data: Buffer, binary: boolean) => frames.push({ binary, bytes: data }));
    const writer = duplex.writable.getWriter();
    await writer.write(new Uint8Array([1, 2, 3]).subarray(1));
    peer.send(Buffer.from([9, 8, 7]));
    const reader = duplex.readable.getReader();
    const { value } = await reader.read();
    expect([...value!]).toEqual([9, 8, 7]);
    await expect.poll(() => frames.length).toBe(1);
    expect(frames[0]).toEqual({ binary: true, bytes: Buffer.from([2, 3]) });
    await writer.close();
  });

  it('holds writes while bufferedAmount is above the high-water mark, and releases them once it drains', async () => {
    const { url, accepted } = await listen();
    const ws = new WebSocket(url);
    const duplex = webSocketToDuplex(ws, { highWaterMark: 64 * 1024 });
    const peer = await accepted();
    await new Promise((resolve) => (ws.readyState === WebSocket.OPEN ? resolve(undefined) : ws.once('open', resolve)));
    // Stop reading on the far end: the kernel buffers fill, then `ws` buffers in user space.
    const peerSocket = (peer as unknown as { _socket: import('node:net').Socket })._socket;
    peerSocket.pause();
    let received = 0;
    peer.on('message', (data: Buffer) => (received += data.length));

    const writer = duplex.writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let blocked: Promise<void> | undefined;
    for (let i = 0; i < 400 && !blocked; i++) {
      const write = writer.write(chunk);
      if ((await stateOf(write)) === 'pending') blocked = write;
    }
    expect(blocked, 'a write must wait once the socket buffers more than the high-water mark').toBeDefined();
    expect(ws.bufferedAmount).toBeGreaterThan(64 * 1024);
    peerSocket.resume();
    await blocked;
    expect(ws.bufferedAmount).toBeLessThanOrEqual(16 * 1024);
    await writer.close();
    await expect.poll(() => received).toBeGreaterThan(0);
  });

  it('writable.close() closes the socket with code 1000 after what was written', async () => {
    const { url, accepted } = await listen();
    const duplex = webSocketToDuplex(new WebSocket(url));
    const peer = await accepted();
    const got: number[] = [];
    peer.on('message', (data: Buffer) => got.push(...data));
    const closed = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    const writer = duplex.writable.getWriter();
    await writer.write(new Uint8Array([5, 6]));
    await writer.close();
    expect(await closed).toBe(1000);
    expect(got).toEqual([5, 6]);
  });

  it('ends the readable on a normal close from the peer', async () => {
    const { url, accepted } = await listen();
    const duplex = webSocketToDuplex(new WebSocket(url));
    const peer = await accepted();
    peer.send(Buffer.from('tail'));
    peer.close(1000);
    expect(Buffer.from(await readAll(duplex.readable)).toString()).toBe('tail');
    await expect(duplex.writable.getWriter().write(new Uint8Array(1))).rejects.toThrow(SshError);
  });

  it('errors both streams with the close code when the connection drops', async () => {
    const { url, accepted } = await listen();
    const duplex = webSocketToDuplex(new WebSocket(url));
    const peer = await accepted();
    const reading = readAll(duplex.readable);
    peer.terminate();
    await expect(reading).rejects.toThrow(/WebSocket closed: code 1006/);
    await expect(duplex.writable.getWriter().write(new Uint8Array(1))).rejects.toThrow(SshError);
  });

  it('errors the readable on a text frame', async () => {
    const { url, accepted } = await listen();
    const duplex = webSocketToDuplex(new WebSocket(url));
    const peer = await accepted();
    peer.send('not binary');
    await expect(readAll(duplex.readable)).rejects.toThrow(/string frame; SSH over WebSocket uses binary frames only/);
  });

  it('rejects writes when the socket never opens', async () => {
    const { url } = await listen();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const duplex = webSocketToDuplex(new WebSocket(url));
    const writing = duplex.writable.getWriter().write(new Uint8Array(1));
    await expect(writing).rejects.toThrow(SshError);
    await expect(readAll(duplex.readable)).rejects.toThrow(/WebSocket (failed to connect|closed before it opened)/);
  });

  it('refuses a socket that is already closed', async () => {
    const { url, accepted } = await listen();
    const ws = new WebSocket(url);
    await accepted();
    await new Promise((resolve) => ws.once('open', resolve));
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
    expect(() => webSocketToDuplex(ws)).toThrow(/readyState 3/);
  });
});
