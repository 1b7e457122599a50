/**
 * Fault injection on a byte duplex: the connection breaks after N chunks or N bytes, counted on
 * reads, writes or both, and then errors in both directions at once, as a reset socket does.
 * Used to walk every point of a handshake or transfer and check that the failure surfaces cleanly.
 */
import type { ByteDuplex } from './pipes.js';

/** Options of {@link faultyDuplex}. */
export interface FaultOptions {
  /** Break once this many chunks have passed; the chunk that exceeds it is not delivered. */
  afterChunks?: number;
  /** Break once this many bytes have passed; the chunk that crosses the limit is cut at it. */
  afterBytes?: number;
  /** Which traffic counts toward the limit (default both). */
  count?: 'read' | 'write' | 'both';
  /** The error both directions fail with (default an Error naming the limit). */
  error?: Error;
  /**
   * What the far side sees: `abort` (default) errors it at once and drops bytes still queued,
   * like a reset; `close` lets the queued bytes arrive and then ends the stream, like a FIN.
   */
  peer?: 'abort' | 'close';
}

/** A duplex that can break, and tells whether it did. */
export interface FaultyDuplex extends ByteDuplex {
  /** True once the fault fired. */
  readonly tripped: boolean;
  /** Resolves with the error when the fault fires. */
  readonly fault: Promise<Error>;
  /** Breaks the connection now. */
  trip(error?: Error): void;
  /** Chunks and bytes counted so far. */
  readonly counted: { chunks: number; bytes: number };
}

/**
 * Wraps `inner` so that it fails after a budget of chunks or bytes.
 * @param inner the healthy duplex (for example one end of `duplexPair()`)
 * @param options where to break and with which error
 * @returns the wrapped duplex; the inner one is cancelled and aborted when it breaks
 */
export function faultyDuplex(inner: ByteDuplex, options: FaultOptions = {}): FaultyDuplex {
  const countMode = options.count ?? 'both';
  const counted = { chunks: 0, bytes: 0 };
  const reader = inner.readable.getReader();
  const writer = inner.writable.getWriter();
  let tripped = false;
  let readController!: ReadableStreamDefaultController<Uint8Array>;
  let writeController!: WritableStreamDefaultController;
  let resolveFault!: (error: Error) => void;
  const fault = new Promise<Error>((resolve) => (resolveFault = resolve));
  let failure: Error | undefined;

  const defaultError = (): Error =>
    new Error(
      `Injected fault after ${counted.chunks} chunks and ${counted.bytes} bytes ` +
        `(limit ${options.afterChunks ?? '-'} chunks, ${options.afterBytes ?? '-'} bytes)`,
    );

  function trip(error?: Error): void {
    if (tripped) return;
    tripped = true;
    failure = error ?? options.error ?? defaultError();
    readController.error(failure);
    writeController.error(failure);
    reader.cancel(failure).catch(() => {});
    if (options.peer === 'close') writer.close().catch(() => {});
    else writer.abort(failure).catch(() => {});
    resolveFault(failure);
  }

  function counts(direction: 'read' | 'write'): boolean {
    return countMode === 'both' || countMode === direction;
  }

  function spent(): boolean {
    return (
      (options.afterChunks !== undefined && counted.chunks >= options.afterChunks) ||
      (options.afterBytes !== undefined && counted.bytes >= options.afterBytes)
    );
  }

  /** Returns the part of `chunk` the budget allows, or undefined (and trips) when none is left. */
  function admit(chunk: Uint8Array, direction: 'read' | 'write'): Uint8Array | undefined {
    if (tripped) return undefined;
    if (!counts(direction)) return chunk;
    if (spent()) {
      trip();
      return undefined;
    }
    const room = options.afterBytes === undefined ? Infinity : options.afterBytes - counted.bytes;
    const pass = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    counted.chunks += 1;
    counted.bytes += pass.byteLength;
    return pass;
  }

  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readController = controller;
      },
      async pull(controller) {
        // A spent budget breaks the connection as soon as more is asked for, not when more arrives.
        if (counts('read') && spent()) {
          trip();
          return;
        }
        const { value, done } = await reader.read();
        if (tripped) return;
        if (done) {
          controller.close();
          return;
        }
        const pass = admit(value, 'read');
        if (pass === undefined) return;
        controller.enqueue(pass);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    new CountQueuingStrategy({ highWaterMark: 0 }),
  );

  const writable = new WritableStream<Uint8Array>({
    start(controller) {
      writeController = controller;
    },
    async write(chunk) {
      const pass = admit(chunk, 'write');
      if (pass === undefined) throw failure;
      await writer.write(pass);
      if (pass.byteLength < chunk.byteLength) {
        trip();
        throw failure;
      }
    },
    close() {
      return writer.close();
    },
    abort(reason) {
      return writer.abort(reason);
    },
  });

  return {
    readable,
    writable,
    get tripped() {
      return tripped;
    },
    fault,
    trip,
    counted,
  };
}
