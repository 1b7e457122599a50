import { describe, expect, it } from 'vitest';
import { ChannelClosedError, ProtocolError } from '../../lib/errors.js';
import { encodeChannelData } from '../../lib/codec/messages/connection.js';
import { channelPair, readAll, settle, types, windowConfig } from './pair.js';



const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);
const dataSizes = (log: Uint8Array[]): number[] =>
  log.filter((p) => p[0] === 94).map((p) => new DataView(p.buffer).getUint32(5));

describe('Channel stream contract', () => {
  it('slices a write to the peer max packet and stops at the peer window until WINDOW_ADJUST', async () => {
    const p = await channelPair({ server: windowConfig(4096, 1000) });
    const writer = p.c.writable.getWriter();
    let written = false;
    const write = writer.write(bytes(10_000)).then(() => (written = true));
    await settle();
    expect(dataSizes(p.toServer.log)).toEqual([1000, 1000, 1000, 1000, 96]);
    expect(written).toBe(false);
    const received = readAll(p.s.readable);
    await write;
    await writer.close();
    expect((await received).length).toBe(10_000);
    expect(Math.max(...dataSizes(p.toServer.log))).toBeLessThanOrEqual(1000);
    expect(p.monitor.violations).toEqual([]);
  });

  it('sends CHANNEL_EOF on writable.close() and the peer readable ends', async () => {
    const p = await channelPair();
    const writer = p.c.writable.getWriter();
    await writer.write(bytes(10));
    await writer.close();
    expect(await readAll(p.s.readable)).toEqual(bytes(10));
    expect(types(p.toServer)).toContain(96);
    expect(types(p.toServer)).not.toContain(97);
  });

  it('sends CHANNEL_CLOSE on writable.abort() and the peer replies CLOSE once', async () => {
    const p = await channelPair();
    await p.c.writable.abort(new Error('stop'));
    expect(await p.s.closed).toMatchObject({ closedBy: 'remote' });
    expect(await p.c.closed).toMatchObject({ closedBy: 'local' });
    await settle();
    expect(types(p.toServer).filter((t) => t === 97)).toHaveLength(1);
    expect(types(p.toClient).filter((t) => t === 97)).toHaveLength(1);
    expect(p.client.channelCount).toBe(0);
    expect(p.server.channelCount).toBe(0);
  });

  it('sends CHANNEL_CLOSE on channel.close() without waiting for the peer reply', async () => {
    const p = await channelPair();
    p.toClient.paused = true; // the peer's CLOSE never arrives
    await p.c.close();
    expect(await p.c.closed).toEqual({ closedBy: 'local' });
    expect(p.client.channelCount).toBe(0);
    await settle();
    expect(types(p.toServer)).toContain(97);
    expect(p.s.isClosed).toBe(true);
  });

  it('withholds WINDOW_ADJUST until the reader consumes half the window', async () => {
    const p = await channelPair({ server: windowConfig(4096, 1024) });
    const writer = p.c.writable.getWriter();
    for (let i = 0; i < 4; i++) await writer.write(bytes(1024));
    await settle();
    const reader = p.s.readable.getReader();
    expect(types(p.toClient).filter((t) => t === 93)).toHaveLength(0);
    await reader.read(); // 1 KiB consumed: a quarter of the window
    await settle();
    expect(types(p.toClient).filter((t) => t === 93)).toHaveLength(0);
    await reader.read(); // half consumed
    await settle();
    const adjusts = p.toClient.log.filter((p) => p[0] === 93);
    expect(adjusts).toHaveLength(1);
    expect(new DataView(adjusts[0]!.buffer).getUint32(5)).toBe(2048);
  });

  it('reading 1 KiB byte by byte sends few window adjusts', async () => {
    const p = await channelPair({ server: windowConfig(512, 512) });
    const writer = p.c.writable.getWriter();
    const reader = p.s.readable.getReader();
    for (let i = 0; i < 1024; i++) {
      void writer.write(bytes(1));
      await reader.read();
    }
    await settle();
    const adjusts = types(p.toClient).filter((t) => t === 93).length;
    expect(adjusts).toBeGreaterThan(0);
    expect(adjusts).toBeLessThanOrEqual(4);
    expect(p.monitor.violations).toEqual([]);
  });

  it('discards data after readable.cancel(), credits it at once and closes once the write side is done', async () => {
    const p = await channelPair({ server: windowConfig(4096, 1024) });
    await p.s.readable.cancel();
    const writer = p.c.writable.getWriter();
    for (let i = 0; i < 16; i++) await writer.write(bytes(1024)); // 4x the window: only credit lets it through
    await settle();
    expect(types(p.toClient).filter((t) => t === 93).length).toBeGreaterThanOrEqual(6);
    expect(types(p.toClient)).not.toContain(97);
    await p.s.writable.close();
    await settle();
    expect(types(p.toClient)).toEqual(expect.arrayContaining([96, 97]));
    expect(await p.c.closed).toMatchObject({ closedBy: 'remote' });
  });

  it('closes the readable after queued data when the peer sends EOF', async () => {
    const p = await channelPair();
    const writer = p.c.writable.getWriter();
    await writer.write(bytes(100, 1));
    await writer.write(bytes(100, 2));
    await writer.close();
    await settle();
    const all = await readAll(p.s.readable);
    expect(all.length).toBe(200);
    expect(all[199]).toBe(2);
  });

  it('ends both streams on peer CLOSE, rejects pending writes with ChannelClosedError and replies CLOSE', async () => {
    const p = await channelPair({ server: windowConfig(1024, 1024) });
    const writer = p.c.writable.getWriter();
    await writer.write(bytes(1024)); // fills the peer window
    const pending = writer.write(bytes(10));
    await settle();
    await p.s.close();
    await expect(pending).rejects.toBeInstanceOf(ChannelClosedError);
    await expect(writer.closed).rejects.toBeInstanceOf(ChannelClosedError);
    expect((await readAll(p.c.readable)).length).toBe(0);
    expect(types(p.toServer)).toContain(97);
    expect(await p.c.closed).toMatchObject({ closedBy: 'remote' });
  });

  it('raises ProtocolError for data beyond the window', async () => {
    const p = await channelPair({ server: windowConfig(1000, 1000), disconnectOnError: false });
    const id = p.s.channelId;
    p.toServer.inject(encodeChannelData(id, bytes(600)));
    p.toServer.inject(encodeChannelData(id, bytes(600)));
    await settle();
    expect(p.toServer.errors).toHaveLength(1);
    expect(p.toServer.errors[0]).toBeInstanceOf(ProtocolError);
    expect(p.toServer.errors[0]!.message).toBe(`Peer exceeded window by 200 bytes on channel ${id}`);
  });

  it('raises ProtocolError for a packet larger than the advertised maximum', async () => {
    const p = await channelPair({ server: windowConfig(10_000, 1000), disconnectOnError: false });
    p.toServer.inject(encodeChannelData(p.s.channelId, bytes(1001)));
    await settle();
    expect(p.toServer.errors[0]).toBeInstanceOf(ProtocolError);
  });

  it('errors every stream of every channel with the same error object when the session ends', async () => {
    const p = await channelPair();
    const second = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    const error = new Error('link lost');
    const writer = p.c.writable.getWriter();
    const reads = [p.c.readable, p.c.stderr, second[0].readable].map((r) => r.getReader().read());
    p.s.onRequest = () => new Promise(() => {});
    const request = p.c.request({ requestType: 'never-answered', wantReply: true });
    await settle();
    p.close(error);
    for (const read of reads) await expect(read).rejects.toBe(error);
    await expect(request).rejects.toBe(error);
    await expect(writer.write(bytes(1))).rejects.toBe(error);
    expect(await p.c.closed).toEqual({ closedBy: 'session', error });
    expect(await second[1].closed).toEqual({ closedBy: 'session', error });
  });

  it('delivers stderr as extended data that shares the window', async () => {
    const p = await channelPair({ client: windowConfig(2048, 1024) });
    const err = p.s.stderrWritable.getWriter();
    const out = p.s.writable.getWriter();
    await err.write(bytes(1024, 2));
    await out.write(bytes(1024, 1));
    let third = false;
    const blocked = out.write(bytes(10)).then(() => (third = true));
    await settle();
    expect(third).toBe(false); // window of 2048 is used up by stdout + stderr together
    expect(await readAll_first(p.c.stderr)).toEqual(bytes(1024, 2));
    const reader = p.c.readable.getReader();
    expect((await reader.read()).value).toEqual(bytes(1024, 1));
    await blocked;
    await Promise.all([err.close(), out.close()]);
    expect(types(p.toClient).filter((t) => t === 96)).toHaveLength(1);
  });

  it('keeps stderr that arrives before stderr is first read, then ends it at the peer EOF', async () => {
    const p = await channelPair();
    const err = p.s.stderrWritable.getWriter();
    await err.write(bytes(300, 7));
    await Promise.all([err.close(), p.s.writable.close()]);
    expect(await readAll(p.c.readable)).toEqual(new Uint8Array(0));
    expect(await readAll(p.c.stderr)).toEqual(bytes(300, 7));
  });

  it('ends a stderr first touched after the peer EOF', async () => {
    const p = await channelPair();
    await p.s.writable.close();
    expect(await readAll(p.c.readable)).toEqual(new Uint8Array(0));
    const read = p.c.stderr.getReader().read();
    await settle();
    expect(await Promise.race([read, 'still open'])).toEqual({ done: true, value: undefined });
  });

  it('errors a writable first touched after the channel closed and sends nothing on it', async () => {
    const p = await channelPair();
    await p.c.close();
    const sent = p.toServer.log.length;
    const writer = p.c.writable.getWriter();
    await expect(writer.closed).rejects.toBeInstanceOf(ChannelClosedError);
    await expect(writer.write(bytes(10))).rejects.toBeInstanceOf(ChannelClosedError);
    await expect(p.c.stderrWritable.getWriter().write(bytes(10))).rejects.toBeInstanceOf(ChannelClosedError);
    await settle();
    expect(p.toServer.log.length).toBe(sent);
  });

  it('gives streams first touched after the session ended the session error, and queued data is dropped', async () => {
    const p = await channelPair();
    const writer = p.s.writable.getWriter();
    await writer.write(bytes(100));
    await settle();
    const error = new Error('link lost');
    p.close(error);
    await expect(p.c.readable.getReader().read()).rejects.toBe(error);
    await expect(p.c.stderr.getReader().read()).rejects.toBe(error);
    await expect(p.c.writable.getWriter().write(bytes(1))).rejects.toBe(error);
    expect(await p.c.closed).toEqual({ closedBy: 'session', error });
  });

  it('sends EOF only after both the writable and a used stderrWritable are closed', async () => {
    const p = await channelPair();
    const err = p.s.stderrWritable.getWriter();
    await p.s.writable.close();
    await settle();
    expect(types(p.toClient)).not.toContain(96);
    await err.close();
    await settle();
    expect(types(p.toClient)).toContain(96);
  });

  it('works as a Duplex with pipeThrough', async () => {
    const p = await channelPair();
    // The server echoes upper-cased text.
    void p.s.readable
      .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
      .pipeThrough(new TransformStream<string, string>({ transform: (s, c) => c.enqueue(s.toUpperCase()) }))
      .pipeThrough(new TextEncoderStream())
      .pipeTo(p.s.writable);
    const out = readAll(p.c.readable).then((b) => new TextDecoder().decode(b));
    const writer = p.c.writable.getWriter();
    await writer.write(new TextEncoder().encode('hello '));
    await writer.write(new TextEncoder().encode('streams'));
    await writer.close();
    expect(await out).toBe('HELLO STREAMS');
  });
});

async function readAll_first(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value!;
}
