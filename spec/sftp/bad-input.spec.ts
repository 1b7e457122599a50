/**
 * Bad input on both sides of SFTP: packets written by hand to serveSftp (no INIT, truncated, huge
 * lengths, missing request ids, malformed fields, unknown types and extensions, a client that stops
 * reading), and a hand-written server feeding our client garbage. Each ends in a clear error,
 * nothing crashes, the SSH session survives, and memory stays bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, type MessageOf } from '../../lib/codec/schema.js';
import { SftpClient, SftpError, SftpStatus } from '../../lib/sftp/index.js';
import * as M from '../../lib/sftp/messages.js';
import { SftpPacketReader } from '../../lib/sftp/packet-reader.js';
import { sessionPair } from '../helpers/pairs.js';
import { rawSftpChannel, sftpPair, type SftpPair } from './sftp-pair.js';

let pair: SftpPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

const init = M.encodePacket(M.Init, { version: 3, extensions: new Map() });

function frame(...bytes: number[]): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/** Reads every packet until the channel ends. */
async function packetsUntilEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array[]> {
  const framer = new SftpPacketReader(1 << 20);
  const out: Uint8Array[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(...framer.push(value).map((p) => p.slice()));
  }
}

/** Sends `bytes` after INIT; returns the status packets answered (VERSION left out) once the channel ends. */
async function statusesAfter(p: SftpPair, ...bytes: Uint8Array[]): Promise<MessageOf<typeof M.Status>[]> {
  const { writer, reader, channel } = await rawSftpChannel(p.client);
  await writer.write(init);
  for (const b of bytes) await writer.write(b);
  await writer.close();
  const packets = await packetsUntilEnd(reader);
  await channel.closed;
  expect(packets[0]![0]).toBe(2);
  return packets.slice(1).map((packet) => decode(M.Status, packet));
}

describe('serveSftp against bad input', () => {
  it('answers BAD_MESSAGE and closes the channel for malformed packets, the session lives on', async () => {
    pair = await sftpPair();
    const cases: [string, Uint8Array[]][] = [
      ['a huge length', [new Uint8Array([0x7f, 0xff, 0xff, 0xff, 3])]],
      ['a packet without request id', [frame(3, 0, 0)]],
      ['an OPEN cut short', [frame(3, 0, 0, 0, 9, 0, 0, 0, 100, 0x61)]],
      ['attributes with unknown flags', [frame(9, 0, 0, 0, 9, 0, 0, 0, 1, 0x61, 0, 0, 0x10, 0)]],
      ['a second INIT', [init]],
      ['a stream ending inside a packet', [new Uint8Array([0, 0, 0, 50, 17, 0, 0])]],
    ];
    for (const [what, bytes] of cases) {
      const statuses = await statusesAfter(pair, ...bytes);
      expect(statuses.map((s) => s.code), what).toEqual([SftpStatus.BAD_MESSAGE]);
    }
    expect(pair.errors.length).toBe(cases.length);
    expect(pair.errors.every((e) => e.name === 'ProtocolError')).toBe(true);
    expect(pair.errors[0]!.message).toMatch(/length 2147483647 .* outside 1\.\.262144/);
    expect(pair.errors[2]!.message).toMatch(/Open\.filename: unexpected end of payload .*\(request 9\)/);
    // The same SSH session still serves SFTP.
    expect(await (await SftpClient.open(pair.client)).realpath('.')).toBe('/');
  });

  it('requires INIT first', async () => {
    pair = await sftpPair();
    const { writer, reader } = await rawSftpChannel(pair.client);
    await writer.write(M.encodePacket(M.Realpath, { requestId: 1, path: '.' }));
    const packets = await packetsUntilEnd(reader);
    expect(packets.map((p) => decode(M.Status, p).code)).toEqual([SftpStatus.BAD_MESSAGE]);
    expect(pair.errors[0]!.message).toMatch(/Expected Init \(1\), got message 16/);
  });

  it('answers OP_UNSUPPORTED for unknown types and extensions and keeps serving', async () => {
    pair = await sftpPair();
    const statuses = await statusesAfter(
      pair,
      frame(99, 0, 0, 0, 7, 1, 2, 3),
      M.encodePacket(M.Extended, { requestId: 8, extendedRequest: 'nonsense@example.com', data: new Uint8Array(3) }),
      M.encodePacket(M.Stat, { requestId: 9, path: '/missing' }),
      M.encodePacket(M.Close, { requestId: 10, handle: new Uint8Array(2) }),
    );
    expect(statuses.map((s) => [s.requestId, s.code])).toEqual([
      [7, SftpStatus.OP_UNSUPPORTED],
      [8, SftpStatus.OP_UNSUPPORTED],
      [9, SftpStatus.NO_SUCH_FILE],
      [10, SftpStatus.FAILURE],
    ]);
    expect(pair.errors).toEqual([]);
  });

  it('stops reading requests while the client does not read answers, then answers every one', async () => {
    pair = await sftpPair();
    const size = 8 * 1024 * 1024;
    writeFileSync(join(pair.root, 'big'), Buffer.alloc(size, 7));
    const { writer, reader } = await rawSftpChannel(pair.client);
    await writer.write(init);
    await writer.write(M.encodePacket(M.Open, { requestId: 1, filename: '/big', pflags: 1, attrs: new (await import('../../lib/sftp/attributes.js')).SftpAttributes() }));
    const framer = new SftpPacketReader(1 << 20);
    const next = async (): Promise<Uint8Array> => {
      for (;;) {
        const { value } = await reader.read();
        const [packet] = framer.push(value!);
        if (packet) return packet;
      }
    };
    await next(); // VERSION
    const { handle } = decode(M.Handle, await next());
    // 400 reads of 255 KiB (100 MiB of answers) sent without reading any answer.
    const requests = 400;
    const sending = (async () => {
      for (let i = 0; i < requests; i++) {
        await writer.write(M.encodePacket(M.Read, { requestId: 100 + i, handle, offset: BigInt((i * 255 * 1024) % size), len: 255 * 1024 }));
      }
    })();
    const before = process.memoryUsage().rss;
    // Long enough for a server without backpressure to answer hundreds of reads (~70 MiB held in tests).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stalled = process.memoryUsage().rss;
    // Every answer still arrives once the client reads again, in full.
    let received = 0;
    let bytes = 0;
    const ids: number[] = [];
    while (received < requests) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const packet of framer.push(value)) {
        const data = decode(M.Data, packet);
        ids.push(data.requestId);
        bytes += data.data.length;
        received++;
      }
    }
    await sending;
    // Answers may come in any order (draft-02 §6.1); each request gets exactly one.
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: requests }, (_, i) => 100 + i));
    const expected = Array.from({ length: requests }, (_, i) => Math.min(255 * 1024, size - ((i * 255 * 1024) % size))).reduce((a, b) => a + b);
    expect(bytes).toBe(expected);
    // Unbounded queueing would hold ~100 MiB of answers; the window and one answer are a few MiB.
    expect(stalled - before).toBeLessThan(48 * 1024 * 1024);
    expect(pair.errors).toEqual([]);
  });
});

describe('SftpClient against a bad server', () => {
  /** A server whose sftp channel runs `script` with a writer and the framed packets from the client. */
  async function badServer(script: (write: (bytes: Uint8Array) => Promise<void>, packets: AsyncIterator<Uint8Array>) => Promise<void>, subsystem = true) {
    const { client, server } = await sessionPair();
    void (async () => {
      for await (const channel of server.channels) {
        channel.onRequest = (e) => subsystem && e.requestType === 'subsystem';
        const writer = channel.writable.getWriter();
        const framer = new SftpPacketReader(1 << 20);
        const packets = (async function* () {
          for await (const chunk of channel.readable as unknown as AsyncIterable<Uint8Array>) yield* framer.push(chunk);
        })();
        void script((bytes) => writer.write(bytes), packets).catch(() => {});
      }
    })();
    return { client, close: async () => { await client.close(); await server.close(); } };
  }
  const version = (v = 3): Uint8Array => M.encodePacket(M.Version, { version: v, extensions: new Map() });

  it('fails every pending request with BAD_MESSAGE when the server answers an id never sent', async () => {
    const s = await badServer(async (write, packets) => {
      await packets.next();
      await write(version());
      await packets.next();
      await write(M.encodePacket(M.Status, { requestId: 4242, code: 0, errorMessage: '', languageTag: '' }));
    });
    const sftp = await SftpClient.open(s.client);
    const error = await sftp.stat('/x').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SftpError);
    expect(error).toMatchObject({ code: SftpStatus.BAD_MESSAGE, message: expect.stringContaining('request 4242, which is not outstanding') });
    await expect(sftp.stat('/y')).rejects.toMatchObject({ code: SftpStatus.BAD_MESSAGE });
    await s.close();
  });

  it('fails with BAD_MESSAGE on a huge length, and CONNECTION_LOST when the channel ends', async () => {
    const huge = await badServer(async (write, packets) => {
      await packets.next();
      await write(version());
      await packets.next();
      await write(new Uint8Array([0xff, 0xff, 0xff, 0xf0]));
    });
    await expect((await SftpClient.open(huge.client)).readFile('/x')).rejects.toMatchObject({ code: SftpStatus.BAD_MESSAGE, message: expect.stringContaining('length 4294967280') });
    await huge.close();
    const closing = await badServer(async (write, packets) => {
      await packets.next();
      await write(version());
      await packets.next();
      await write(frame(101, 0, 0)); // half a STATUS, then the channel closes
      throw new Error('done');
    });
    const sftp = await SftpClient.open(closing.client);
    const pending = sftp.stat('/x');
    await closing.client.close();
    await expect(pending).rejects.toMatchObject({ code: expect.any(Number) });
    await closing.close();
  });

  it('refuses a server that speaks another version or refuses the subsystem', async () => {
    const v2 = await badServer(async (write, packets) => {
      await packets.next();
      await write(version(2));
    });
    await expect(SftpClient.open(v2.client)).rejects.toMatchObject({ code: SftpStatus.OP_UNSUPPORTED, message: expect.stringContaining('version 2') });
    await v2.close();
    const refusing = await badServer(async () => {}, false);
    await expect(SftpClient.open(refusing.client)).rejects.toMatchObject({ code: SftpStatus.OP_UNSUPPORTED, message: expect.stringContaining('refused the sftp subsystem') });
    await refusing.close();
  });
});
