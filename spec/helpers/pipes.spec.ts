import { describe, expect, it } from 'vitest';
import { concatBytes, duplexPair, flushAsyncEvents, readAll, tcpPair } from './pipes.js';
import { randomBytes } from './random.js';

describe('duplexPair', () => {
  it('moves bytes both ways', async () => {
    const [a, b] = duplexPair();
    const aWriter = a.writable.getWriter();
    const bWriter = b.writable.getWriter();
    await aWriter.write(new Uint8Array([1, 2, 3]));
    await bWriter.write(new Uint8Array([9]));
    const bReader = b.readable.getReader();
    const aReader = a.readable.getReader();
    expect((await bReader.read()).value).toEqual(new Uint8Array([1, 2, 3]));
    expect((await aReader.read()).value).toEqual(new Uint8Array([9]));
  });

  it('copies chunks so the writer may reuse its buffer', async () => {
    const [a, b] = duplexPair();
    const buffer = new Uint8Array([1, 2]);
    const writer = a.writable.getWriter();
    await writer.write(buffer);
    buffer.fill(0);
    expect((await b.readable.getReader().read()).value).toEqual(new Uint8Array([1, 2]));
  });

  it('makes writers wait once the queues are full and resumes them as the peer reads', async () => {
    const pair = duplexPair({ highWaterMark: 1024 });
    const [a, b] = pair;
    const writer = a.writable.getWriter();
    let written = 0;
    while (writer.desiredSize! > 0) {
      void writer.write(new Uint8Array(256));
      written += 256;
      await flushAsyncEvents();
    }
    // The readable queue holds one highWaterMark; the writable queue another, counting the chunk in flight.
    expect(written).toBeGreaterThanOrEqual(1024 + 512);
    expect(written).toBeLessThanOrEqual(2048 + 256);
    let ready = false;
    void writer.ready.then(() => (ready = true));
    await flushAsyncEvents();
    expect(ready).toBe(false);
    const reader = b.readable.getReader();
    for (let read = 0; read < 1024; read += (await reader.read()).value!.byteLength);
    await flushAsyncEvents();
    expect(ready).toBe(true);
    expect(pair.stats.aToB.bytes).toBeGreaterThanOrEqual(1024);
  });

  it('closes the peer readable after its queued bytes when the writable closes', async () => {
    const [a, b] = duplexPair();
    const writer = a.writable.getWriter();
    void writer.write(new Uint8Array([7, 7]));
    void writer.close();
    expect(await readAll(b.readable)).toEqual(new Uint8Array([7, 7]));
  });

  it('errors the peer readable with the abort reason', async () => {
    const [a, b] = duplexPair();
    const reason = new Error('Link down');
    await a.writable.abort(reason);
    await expect(b.readable.getReader().read()).rejects.toBe(reason);
  });

  it('errors the peer writable when the readable is cancelled', async () => {
    const [a, b] = duplexPair();
    const reason = new Error('Not interested');
    await b.readable.cancel(reason);
    await expect(a.writable.getWriter().write(new Uint8Array(1))).rejects.toBe(reason);
  });
});

describe('tcpPair', () => {
  it('moves bytes both ways over 127.0.0.1 and ends both readables on close', async () => {
    const pair = await tcpPair();
    try {
      expect(pair.clientSocket.remoteAddress).toBe('127.0.0.1');
      const serverWriter = pair.server.writable.getWriter();
      await serverWriter.write(new Uint8Array([42]));
      const clientReader = pair.client.readable.getReader();
      expect(new Uint8Array((await clientReader.read()).value!)).toEqual(new Uint8Array([42]));
      const payload = randomBytes(200_000, 'tcp');
      const clientWriter = pair.client.writable.getWriter();
      void clientWriter.write(payload);
      const clientClosed = clientWriter.close();
      expect(await readAll(pair.server.readable)).toEqual(payload);
      expect((await clientReader.read()).done).toBe(true);
      await clientClosed;
    } finally {
      pair.close();
    }
  });
});

describe('concatBytes', () => {
  it('joins chunks in order', () => {
    expect(concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)])).toEqual(Uint8Array.of(1, 2, 3));
  });
});
