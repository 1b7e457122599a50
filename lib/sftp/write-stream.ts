/**
 * A pipelined upload as a WritableStream (draft-ietf-secsh-filexfer-02 §6.4): each chunk goes out
 * as WRITE requests of at most `chunkSize` bytes at increasing offsets, up to `concurrency` of them
 * in flight. `write()` resolves once its requests are sent (the chunk's bytes copied into channel
 * packets, so the producer may reuse it) and there is room for more, so a slow server slows the writer and memory stays at the requests in flight. The first failed WRITE fails
 * the stream; `close()` waits for every answer, then closes the handle.
 */
import type { ClientLink } from './client-link.js';
import { OpenFlags } from './constants.js';
import { SftpAttributes } from './attributes.js';
import * as M from './messages.js';
import { expectAttrs, expectHandle, expectOk } from './responses.js';

const noop = (): void => {};

/** Options of `createWriteStream`. */
export interface SftpWriteStreamOptions {
  /** 'w' truncates or creates (default), 'a' appends, 'wx' creates and fails if the file exists. */
  flags?: 'w' | 'a' | 'wx';
  /** Permissions of a created file (default 0o644). */
  mode?: number;
  /** Bytes per WRITE (default from limits@openssh.com when offered, else 32 KiB). */
  chunkSize?: number;
  /** WRITE requests kept in flight (default 64 of 32 KiB, or as many of the server's size as fit in 4 MiB, at least 8). */
  concurrency?: number;
}

/** draft-02 §6.3 pflags for each `flags` value. */
export function openFlagsFor(flags: SftpWriteStreamOptions['flags'] = 'w'): number {
  const base = OpenFlags.write | OpenFlags.creat;
  switch (flags) {
    case 'w':
      return base | OpenFlags.trunc;
    case 'a':
      return base | OpenFlags.append;
    case 'wx':
      return base | OpenFlags.excl;
    default:
      throw new RangeError(`Unknown write stream flags '${String(flags)}'; use 'w', 'a' or 'wx'`);
  }
}

/** The state of one upload; `createSftpWriteStream` drives it from the stream's sink. */
class WritePipeline {
  readonly #link: ClientLink;
  readonly #path: string;
  readonly #options: Required<Pick<SftpWriteStreamOptions, 'chunkSize' | 'concurrency'>> & SftpWriteStreamOptions;
  #handle: Uint8Array | undefined;
  #offset = 0;
  #inFlight: Promise<void>[] = [];
  #failure: unknown;

  constructor(link: ClientLink, path: string, options: Required<Pick<SftpWriteStreamOptions, 'chunkSize' | 'concurrency'>> & SftpWriteStreamOptions) {
    this.#link = link;
    this.#path = path;
    this.#options = options;
    openFlagsFor(options.flags);
  }

  async #open(): Promise<Uint8Array> {
    const pflags = openFlagsFor(this.#options.flags);
    const attrs = new SftpAttributes({ mode: this.#options.mode ?? 0o644 });
    const handle = expectHandle(await this.#link.request(M.Open, { filename: this.#path, pflags, attrs }), this.#path);
    if (this.#options.flags === 'a') {
      // Servers that honour O_APPEND ignore offsets; for the others, offsets start at the end.
      this.#offset = expectAttrs(await this.#link.request(M.Fstat, { handle }), this.#path).size ?? 0;
    }
    return handle;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const handle = (this.#handle ??= await this.#open());
    const { chunkSize, concurrency } = this.#options;
    let consumed: Promise<void> | undefined;
    for (let at = 0; at < chunk.length; at += chunkSize) {
      while (this.#inFlight.length >= concurrency) await this.#inFlight.shift();
      if (this.#failure !== undefined) throw this.#failure;
      const data = chunk.subarray(at, at + chunkSize);
      const sent = this.#link.write(handle, this.#offset, data);
      consumed = sent.consumed;
      this.#offset += data.length;
      this.#inFlight.push(sent.response.then((reply) => expectOk(reply, this.#path)).catch((error: unknown) => void (this.#failure ??= error)));
    }
    // The channel holds views of `chunk` until then; the producer may reuse it afterwards.
    await consumed;
    if (this.#failure !== undefined) throw this.#failure;
  }

  async close(): Promise<void> {
    this.#handle ??= await this.#open();
    await Promise.all(this.#inFlight.splice(0));
    const closed = this.#link.request(M.Close, { handle: this.#handle });
    if (this.#failure !== undefined) {
      closed.catch(noop);
      throw this.#failure;
    }
    expectOk(await closed, this.#path);
  }

  async abort(): Promise<void> {
    await Promise.all(this.#inFlight.splice(0));
    if (this.#handle !== undefined) await this.#link.request(M.Close, { handle: this.#handle }).catch(noop);
  }
}

/**
 * Builds the WritableStream of `createWriteStream`; the file opens on the first write (or close).
 * @param link the session's link
 * @param path the remote file
 * @param options open flags, mode and pipelining
 * @returns a stream whose `write()` waits while the pipeline is full
 */
export function createSftpWriteStream(
  link: ClientLink,
  path: string,
  options: Required<Pick<SftpWriteStreamOptions, 'chunkSize' | 'concurrency'>> & SftpWriteStreamOptions,
): WritableStream<Uint8Array> {
  const pipeline = new WritePipeline(link, path, options);
  return new WritableStream<Uint8Array>(
    { write: (chunk) => pipeline.write(chunk), close: () => pipeline.close(), abort: () => pipeline.abort() },
    { highWaterMark: 1 },
  );
}
