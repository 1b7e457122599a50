/**
 * The seam between packet compression and the runtime's zlib (RFC 1950/1951): a persistent
 * deflate or inflate stream driven synchronously, a call per SSH packet. The packet stages are
 * synchronous, so only a synchronous zlib fits; node:zlib has one (installed by
 * lib/platform/node.ts), the browser has none (CompressionStream is asynchronous). Where none is
 * installed the zlib methods are left out of the default lists, and choosing them fails with a
 * clear SshError when the keys that would start them are prepared, never at import.
 */
import { SshError } from '../errors.js';

/** zlib flush modes used by SSH (RFC 4253 §6.2), with zlib.h's values. */
export const ZlibFlush = {
  partial: 1,
  sync: 2,
} as const;

/** Options of a zlib stream. */
export interface ZlibOptions {
  /** Compression level 1-9 (deflate only). */
  level?: number;
  /** Size of the first output buffer; it doubles as needed up to the call's limit. */
  initialOutputSize?: number;
}

/** A zlib deflate or inflate stream whose state persists across synchronous calls. */
export interface ZlibEngine {
  /**
   * Runs `input` through the stream, ending with `flush`, so every byte it implies is output.
   * @param input - bytes to compress or decompress (left untouched)
   * @param flush - a `ZlibFlush` mode
   * @param limit - the most output bytes allowed for this call
   * @returns the output, a view valid until the next call
   * @throws ProtocolError (COMPRESSION_ERROR) on corrupt input, output beyond `limit`, or input
   *   past the stream's end; the stream is unusable afterwards
   */
  process(input: Uint8Array, flush: number, limit: number): Uint8Array;
  /** Frees the engine; further calls throw. */
  close(): void;
}

/** A runtime's synchronous zlib. */
export interface ZlibBackend {
  /** Which zlib this is, for messages (e.g. `node:zlib`). */
  readonly name: string;
  create(mode: 'deflate' | 'inflate', options: ZlibOptions): ZlibEngine;
}

let installed: ZlibBackend | undefined;

/**
 * Makes `backend` the zlib of every compression context created from now on; `undefined` removes
 * it. Called by `lib/platform/node.ts`.
 */
export function installZlibBackend(backend: ZlibBackend | undefined): void {
  installed = backend;
}

/** True when a synchronous zlib is installed, so the zlib methods can run. */
export function isZlibAvailable(): boolean {
  return installed !== undefined;
}

/**
 * Checks that compression method `name` can run here.
 * @throws SshError naming the method when it needs zlib and none is installed
 */
export function requireZlib(name: string): void {
  if (installed === undefined) {
    throw new SshError(
      `Compression ${name} needs a synchronous zlib, which this runtime lacks (only the Node entry installs node:zlib); use compression none`,
    );
  }
}

/**
 * A new stream from the installed zlib.
 * @throws SshError when none is installed
 */
export function createZlib(mode: 'deflate' | 'inflate', options: ZlibOptions): ZlibEngine {
  requireZlib('zlib');
  return installed!.create(mode, options);
}
