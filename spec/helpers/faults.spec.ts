import { describe, expect, it } from 'vitest';
import { faultyDuplex } from './faults.js';
import { duplexPair } from './pipes.js';

describe('faultyDuplex', () => {
  it('passes the chunk budget through, then errors both directions', async () => {
    const [inner, peer] = duplexPair();
    const faulty = faultyDuplex(inner, { afterChunks: 2, count: 'write' });
    const writer = faulty.writable.getWriter();
    const peerReader = peer.readable.getReader();
    await writer.write(Uint8Array.of(1));
    await writer.write(Uint8Array.of(2));
    expect((await peerReader.read()).value).toEqual(Uint8Array.of(1));
    expect((await peerReader.read()).value).toEqual(Uint8Array.of(2));
    expect(faulty.tripped).toBe(false);
    await expect(writer.write(Uint8Array.of(3))).rejects.toThrow(/Injected fault after 2 chunks and 2 bytes/);
    expect(faulty.tripped).toBe(true);
    const fault = await faulty.fault;
    await expect(faulty.readable.getReader().read()).rejects.toBe(fault);
    await expect(peerReader.read()).rejects.toBe(fault);
  });

  it('cuts the chunk that crosses the byte budget', async () => {
    const [inner, peer] = duplexPair();
    const error = new Error('Reset');
    const faulty = faultyDuplex(inner, { afterBytes: 5, error, peer: 'close' });
    const writer = faulty.writable.getWriter();
    await writer.write(Uint8Array.of(1, 2, 3));
    await expect(writer.write(Uint8Array.of(4, 5, 6, 7))).rejects.toBe(error);
    const peerReader = peer.readable.getReader();
    expect((await peerReader.read()).value).toEqual(Uint8Array.of(1, 2, 3));
    expect((await peerReader.read()).value).toEqual(Uint8Array.of(4, 5));
    expect((await peerReader.read()).done).toBe(true);
    expect(faulty.counted).toEqual({ chunks: 2, bytes: 5 });
  });

  it('breaks on reads once the budget is spent', async () => {
    const [inner, peer] = duplexPair();
    const faulty = faultyDuplex(inner, { afterChunks: 1, count: 'read' });
    const peerWriter = peer.writable.getWriter();
    void peerWriter.write(Uint8Array.of(1));
    void peerWriter.write(Uint8Array.of(2));
    const reader = faulty.readable.getReader();
    expect((await reader.read()).value).toEqual(Uint8Array.of(1));
    await expect(reader.read()).rejects.toThrow(/Injected fault/);
    await expect(peerWriter.write(Uint8Array.of(3))).rejects.toThrow(/Injected fault/);
  });

  it('passes everything through while the budget lasts', async () => {
    const [inner, peer] = duplexPair();
    const faulty = faultyDuplex(inner, { afterBytes: 100 });
    const writer = faulty.writable.getWriter();
    await writer.write(Uint8Array.of(1, 2));
    await writer.close();
    const peerWriter = peer.writable.getWriter();
    await peerWriter.write(Uint8Array.of(3));
    await peerWriter.close();
    const reader = faulty.readable.getReader();
    expect((await reader.read()).value).toEqual(Uint8Array.of(3));
    expect((await reader.read()).done).toBe(true);
    expect(faulty.tripped).toBe(false);
  });

  it('breaks on demand with the given error', async () => {
    const [inner] = duplexPair();
    const faulty = faultyDuplex(inner);
    const error = new Error('Pulled the plug');
    faulty.trip(error);
    expect(await faulty.fault).toBe(error);
    await expect(faulty.writable.getWriter().write(Uint8Array.of(1))).rejects.toBe(error);
  });
});
