/**
 * serveSftp with many requests in flight: READs and WRITEs on different bytes run side by side and
 * are answered as they finish, overlapping ones keep their order, CLOSE waits for what runs on its
 * handle, at most `concurrency` requests run, and a client that stops reading stops the server
 * starting more. The server's file I/O is watched (and, where a test needs one slow call, held)
 * by wrapping node's FileHandle methods in this process; the files and the I/O stay real.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from '../../lib/codec/schema.js';
import { SftpAttributes } from '../../lib/sftp/attributes.js';
import { SftpPacketType, SftpStatus } from '../../lib/sftp/constants.js';
import * as M from '../../lib/sftp/messages.js';
import { SftpPacketReader } from '../../lib/sftp/packet-reader.js';
import { rawSftpChannel, sftpPair, type SftpPair } from './sftp-pair.js';

type Method = 'read' | 'write' | 'writev';
const methods: Method[] = ['read', 'write', 'writev'];

/** Wraps FileHandle's read/write/writev: counts calls and the most at once, and can hold a call. */
async function watchFileIo(): Promise<{
  started: Record<Method, number>;
  maxAtOnce: Record<Method, number>;
  /** Calls of `method` at `position` wait until the returned function is called. */
  hold(method: Method, position: number): () => void;
  restore(): void;
}> {
  const probe = await open(import.meta.filename ?? join(process.cwd(), 'package.json'), 'r');
  const proto = Object.getPrototypeOf(probe) as Record<Method, (...args: unknown[]) => Promise<unknown>>;
  await probe.close();
  const originals = Object.fromEntries(methods.map((m) => [m, proto[m]])) as Record<Method, (...args: unknown[]) => Promise<unknown>>;
  const started = { read: 0, write: 0, writev: 0 };
  const maxAtOnce = { read: 0, write: 0, writev: 0 };
  const running = { read: 0, write: 0, writev: 0 };
  const holds: { method: Method; position: number; gate: Promise<void> }[] = [];
  for (const method of methods) {
    proto[method] = async function (this: unknown, ...args: unknown[]) {
      started[method]++;
      running[method]++;
      maxAtOnce[method] = Math.max(maxAtOnce[method], running[method]);
      try {
        const position = method === 'writev' ? args[1] : args[3];
        const held = holds.find((h) => h.method === method && h.position === position);
        if (held) await held.gate;
        return await originals[method].apply(this, args);
      } finally {
        running[method]--;
      }
    };
  }
  return {
    started,
    maxAtOnce,
    hold(method, position) {
      let release!: () => void;
      holds.push({ method, position, gate: new Promise((resolve) => (release = resolve)) });
      return release;
    },
    restore: () => Object.assign(proto, originals),
  };
}

let pair: SftpPair | undefined;
let io: Awaited<ReturnType<typeof watchFileIo>> | undefined;
afterEach(async () => {
  io?.restore();
  io = undefined;
  await pair?.close();
  pair = undefined;
});

/** A raw session: INIT done and `name` opened with `pflags`; `next()` yields each answer. */
async function rawSession(p: SftpPair, name: string, pflags: number) {
  const { writer, reader } = await rawSftpChannel(p.client);
  const framer = new SftpPacketReader(1 << 20);
  const queued: Uint8Array[] = [];
  const next = async (): Promise<Uint8Array> => {
    while (queued.length === 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error('channel ended');
      queued.push(...framer.push(value).map((packet) => packet.slice()));
    }
    return queued.shift()!;
  };
  await writer.write(M.encodePacket(M.Init, { version: 3, extensions: new Map() }));
  expect((await next())[0]).toBe(SftpPacketType.version);
  await writer.write(M.encodePacket(M.Open, { requestId: 1, filename: name, pflags, attrs: new SftpAttributes() }));
  const { handle } = decode(M.Handle, await next());
  return { writer, reader, next, handle };
}

const idOf = (packet: Uint8Array): number => new DataView(packet.buffer, packet.byteOffset).getUint32(1);

describe('serveSftp pipelining', () => {
  it('answers a later READ while an earlier one is still reading', async () => {
    pair = await sftpPair();
    writeFileSync(join(pair.root, 'f'), Buffer.alloc(64 * 1024, 3));
    io = await watchFileIo();
    const release = io.hold('read', 0);
    const s = await rawSession(pair, '/f', 1);
    await s.writer.write(M.encodePacket(M.Read, { requestId: 10, handle: s.handle, offset: 0n, len: 1000 }));
    await s.writer.write(M.encodePacket(M.Read, { requestId: 11, handle: s.handle, offset: 8192n, len: 1000 }));
    const first = await s.next();
    expect(idOf(first)).toBe(11);
    release();
    const second = await s.next();
    expect(idOf(second)).toBe(10);
    expect(Buffer.from(decode(M.Data, second).data).equals(Buffer.alloc(1000, 3))).toBe(true);
  });

  it('runs at most `concurrency` reads at once, more than one, and the download is whole', async () => {
    pair = await sftpPair({ concurrency: 4 });
    const content = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < content.length; i += 4) content.writeUInt32BE(i, i);
    writeFileSync(join(pair.root, 'big'), content);
    io = await watchFileIo();
    const chunks: Uint8Array[] = [];
    for await (const chunk of pair.sftp.createReadStream('/big', { chunkSize: 16 * 1024, concurrency: 64 })) chunks.push(chunk.slice());
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
    expect(io.maxAtOnce.read).toBeLessThanOrEqual(4);
    expect(io.maxAtOnce.read).toBeGreaterThan(1);
  });

  it('writes disjoint ranges side by side and an upload in large WRITEs arrives whole', async () => {
    pair = await sftpPair();
    const content = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < content.length; i += 4) content.writeUInt32BE(i ^ 0x5a5a5a5a, i);
    io = await watchFileIo();
    const writer = pair.sftp.createWriteStream('/up').getWriter();
    for (let at = 0; at < content.length; at += 1024 * 1024) await writer.write(content.subarray(at, at + 1024 * 1024));
    await writer.close();
    expect(readFileSync(join(pair.root, 'up')).equals(content)).toBe(true);
    // Large WRITEs arrive over several channel packets and are written with writev, unjoined.
    expect(io.started.writev).toBeGreaterThan(0);
    expect(io.maxAtOnce.writev + io.maxAtOnce.write).toBeGreaterThan(1);
  });

  it('keeps overlapping WRITEs in the order they were sent', async () => {
    pair = await sftpPair();
    io = await watchFileIo();
    const release = io.hold('write', 0);
    const s = await rawSession(pair, '/o', 0x02 | 0x08);
    const write = (requestId: number, offset: number, text: string) =>
      s.writer.write(M.encodePacket(M.Write, { requestId, handle: s.handle, offset: BigInt(offset), data: new TextEncoder().encode(text) }));
    await write(20, 0, 'aaaa');
    await write(21, 2, 'bb');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The second WRITE overlaps the first, which is held: it has not started.
    expect(io.started.write).toBe(1);
    release();
    expect([idOf(await s.next()), idOf(await s.next())]).toEqual([20, 21]);
    expect(readFileSync(join(pair.root, 'o'), 'utf8')).toBe('aabb');
  });

  it('answers CLOSE after the READs in flight on its handle, and a READ after it fails', async () => {
    pair = await sftpPair();
    writeFileSync(join(pair.root, 'f'), Buffer.alloc(64 * 1024, 9));
    io = await watchFileIo();
    const release = io.hold('read', 0);
    const s = await rawSession(pair, '/f', 1);
    for (let i = 0; i < 5; i++) await s.writer.write(M.encodePacket(M.Read, { requestId: 30 + i, handle: s.handle, offset: BigInt(i * 8192), len: 4096 }));
    await s.writer.write(M.encodePacket(M.Close, { requestId: 40, handle: s.handle }));
    await s.writer.write(M.encodePacket(M.Read, { requestId: 41, handle: s.handle, offset: 0n, len: 10 }));
    const early = [await s.next(), await s.next(), await s.next(), await s.next()];
    expect(early.map(idOf).sort()).toEqual([31, 32, 33, 34]);
    release();
    const held = await s.next();
    expect(idOf(held)).toBe(30);
    expect(decode(M.Data, held).data.length).toBe(4096);
    const closed = decode(M.Status, await s.next());
    expect([closed.requestId, closed.code]).toEqual([40, SftpStatus.OK]);
    const after = decode(M.Status, await s.next());
    expect([after.requestId, after.code]).toEqual([41, SftpStatus.FAILURE]);
    expect(after.errorMessage).toMatch(/Invalid handle/);
  });

  it('starts only a bounded number of READs for a client that sends 400 and reads no answer', async () => {
    pair = await sftpPair({ concurrency: 8 });
    writeFileSync(join(pair.root, 'f'), Buffer.alloc(1024 * 1024, 1));
    io = await watchFileIo();
    const s = await rawSession(pair, '/f', 1);
    const sending = (async () => {
      for (let i = 0; i < 400; i++) await s.writer.write(M.encodePacket(M.Read, { requestId: 100 + i, handle: s.handle, offset: BigInt((i % 4) * 255 * 1024), len: 255 * 1024 }));
    })();
    // Wait until the server stops starting reads (the answers fill the channel window and its buffers).
    let seen = -1;
    while (seen !== io.started.read) {
      seen = io.started.read;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // About a window (2 MiB) of answers, the channel's buffer and `concurrency` more: far from 400.
    expect(io.started.read).toBeLessThan(40);
    const ids = new Set<number>();
    while (ids.size < 400) ids.add(idOf(await s.next()));
    await sending;
    expect(io.started.read).toBe(400);
    expect(pair.errors).toEqual([]);
  });
});
