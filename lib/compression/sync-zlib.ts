/**
 * One persistent zlib stream (RFC 1950/1951) driven synchronously, a call per SSH packet, with a
 * bound on what one call may produce. It owns the native engine and its output buffer; which
 * flush mode and bound a packet uses belongs to `payload-compression.ts`. The node:zlib backend
 * of zlib-engine.ts, installed by lib/platform/node.ts. Failures are ProtocolErrors with
 * COMPRESSION_ERROR (RFC 4253 §11.1).
 */
import { createRequire } from 'node:module';
import { DisconnectReason, ProtocolError, SshError } from '../errors.js';
import type { ZlibBackend, ZlibEngine, ZlibOptions } from './zlib-engine.js';

/**
 * The native engine behind a node:zlib Deflate/Inflate object. Why we call it directly: the packet
 * stages are synchronous, so the asynchronous stream API does not fit; and Node 20's synchronous
 * path (`_processChunk` without a callback, what `deflateSync` runs) closes the engine at the end
 * of every call and adds an 'error' listener each time, so it cannot carry one stream across
 * packets. The handle's `writeSync` is the primitive that path itself calls, once per output buffer.
 */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void;
  close(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

/** The parts of a node:zlib Deflate/Inflate object this module relies on. */
interface ZlibObject {
  _handle: ZlibHandle | null;
  /** [avail_out, avail_in] after each `writeSync`. */
  _writeState: Uint32Array;
}

type NodeZlib = typeof import('node:zlib');
let zlib: NodeZlib | undefined;

/**
 * node:zlib, loaded with the first compressing session rather than at import: most sessions never
 * compress, and every module loaded stays in the heap the collector marks on each full collection.
 * `process.getBuiltinModule` needs Node 20.16; `require` serves older ones.
 */
function nodeZlib(): NodeZlib {
  return (zlib ??= (process.getBuiltinModule?.('node:zlib') as NodeZlib | undefined) ?? (createRequire(import.meta.url)('node:zlib') as NodeZlib));
}

function compressionError(message: string): ProtocolError {
  return new ProtocolError(message, DisconnectReason.compressionError);
}

/** A zlib deflate or inflate stream whose state persists across synchronous calls. */
export class SyncZlib implements ZlibEngine {
  readonly #object: ZlibObject;
  #handle: ZlibHandle | null;
  readonly #state: Uint32Array;
  #output: Uint8Array;
  #failure: ProtocolError | undefined;

  constructor(mode: 'deflate' | 'inflate', options: ZlibOptions = {}) {
    const { createDeflate, createInflate } = nodeZlib();
    const object = (mode === 'deflate' ? createDeflate({ level: options.level ?? 6 }) : createInflate()) as unknown as ZlibObject;
    const handle = object._handle;
    if (handle === null || typeof handle.writeSync !== 'function' || !(object._writeState instanceof Uint32Array)) {
      throw new SshError(`node:zlib in Node ${process.version} lacks the synchronous engine interface compression needs`);
    }
    // Replaces Node's own handler, which would destroy the stream object and emit an 'error'
    // event nobody listens to; the failure is thrown from `process` instead.
    handle.onerror = (message, _errno, code) => {
      this.#failure ??= compressionError(`Corrupt compressed data: ${message} (${code ?? 'Z_ERROR'})`);
    };
    this.#object = object;
    this.#handle = handle;
    this.#state = object._writeState;
    this.#output = new Uint8Array(options.initialOutputSize ?? 16 * 1024);
  }

  /**
   * Runs `input` through the stream, ending with `flush`, so every byte it implies is output.
   * @param input - bytes to compress or decompress (left untouched)
   * @param flush - a `ZlibFlush` mode
   * @param limit - the most output bytes allowed for this call
   * @returns the output, a view valid until the next call
   * @throws ProtocolError (COMPRESSION_ERROR) on corrupt input, output beyond `limit`, or input
   *   past the stream's end; the stream is unusable afterwards
   */
  process(input: Uint8Array, flush: number, limit: number): Uint8Array {
    const handle = this.#handle;
    if (handle === null) throw this.#failure ?? compressionError('Compression stream is closed');
    const state = this.#state;
    let inOffset = 0;
    let inLength = input.length;
    let produced = 0;
    for (;;) {
      const output = this.#output;
      const room = output.length - produced;
      handle.writeSync(flush, input, inOffset, inLength, output, produced, room);
      if (this.#failure) return this.#fail(this.#failure);
      const outLeft = state[0]!;
      const inLeft = state[1]!;
      produced += room - outLeft;
      inOffset += inLength - inLeft;
      inLength = inLeft;
      if (produced > limit) {
        return this.#fail(compressionError(`Decompressed payload exceeds the limit of ${limit} bytes`));
      }
      if (outLeft !== 0) {
        // Room left but input not consumed: the stream ended (inflate saw its final block).
        if (inLeft !== 0) {
          return this.#fail(compressionError(`${inLeft} compressed bytes follow the end of the zlib stream`));
        }
        return output.subarray(0, produced);
      }
      // Output buffer full: zlib may have more to give even with all input consumed.
      const grown = new Uint8Array(Math.min(output.length * 2, limit + 1));
      grown.set(output.subarray(0, produced));
      this.#output = grown;
    }
  }

  /** Frees the engine; further calls throw. */
  close(): void {
    const handle = this.#handle;
    this.#handle = null;
    this.#object._handle = null;
    handle?.close();
  }

  #fail(error: ProtocolError): never {
    this.#failure = error;
    this.close();
    throw error;
  }
}

/** node:zlib as the synchronous zlib of zlib-engine.ts. */
export const nodeZlibBackend: ZlibBackend = {
  name: 'node:zlib',
  create: (mode, options) => new SyncZlib(mode, options),
};
