/**
 * A pipelined download as a ReadableStream (draft-ietf-secsh-filexfer-02 §6.4): up to `concurrency`
 * READ requests of `chunkSize` bytes stay in flight, their data is delivered in file order, a short
 * read asks at once for the rest of its range (and shrinks later requests to what the server gives),
 * and EOF ends the stream. Memory is the requests in flight: nothing is read ahead of them. A
 * large answer arrives in the channel's pieces and is enqueued as those pieces, without a copy.
 */
import type { ClientLink } from './client-link.js';
import { OpenFlags } from './constants.js';
import { SftpAttributes } from './attributes.js';
import * as M from './messages.js';
import type { SftpPayload } from './packet-reader.js';
import { expectData, expectHandle, expectOk } from './responses.js';

const noop = (): void => {};
/** Smallest request a short read may shrink the chunk size to. */
const MIN_CHUNK = 4096;

/** Options of `createReadStream`. */
export interface SftpReadStreamOptions {
  /** First byte to read (default 0). */
  start?: number;
  /** Last byte to read, inclusive as in node:fs (default: to the end of the file). */
  end?: number;
  /** Bytes per READ (default from limits@openssh.com when offered, else 32 KiB). */
  chunkSize?: number;
  /** READ requests kept in flight (default 64 of 32 KiB, or as many of the server's size as fit in 4 MiB, at least 8). */
  concurrency?: number;
}

interface Segment {
  offset: number;
  length: number;
  response: Promise<SftpPayload>;
}

/** The state of one download; `createSftpReadStream` drives it from the stream's pull. */
class ReadPipeline {
  readonly #link: ClientLink;
  readonly #path: string;
  readonly #concurrency: number;
  readonly #end: number;
  #chunkSize: number;
  #next: number;
  #handle: Uint8Array | undefined;
  #segments: Segment[] = [];
  #done = false;

  constructor(link: ClientLink, path: string, options: Required<Pick<SftpReadStreamOptions, 'chunkSize' | 'concurrency'>> & SftpReadStreamOptions) {
    this.#link = link;
    this.#path = path;
    this.#chunkSize = options.chunkSize;
    this.#concurrency = options.concurrency;
    this.#next = options.start ?? 0;
    this.#end = options.end === undefined ? Number.MAX_SAFE_INTEGER : options.end + 1;
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      this.#handle ??= expectHandle(await this.#link.request(M.Open, { filename: this.#path, pflags: OpenFlags.read, attrs: new SftpAttributes() }), this.#path);
      this.#fill();
      const head = this.#segments.shift();
      const pieces = head === undefined ? undefined : expectData(await head.response, this.#path);
      let length = 0;
      for (const piece of pieces ?? []) length += piece.length;
      if (head === undefined || length === 0) {
        await this.#finish();
        controller.close();
        return;
      }
      if (length < head.length) {
        // The server gave less than asked without reaching EOF: the rest of this range comes first.
        if (length < this.#chunkSize) this.#chunkSize = Math.max(MIN_CHUNK, length);
        this.#segments.unshift(this.#issue(head.offset + length, head.length - length));
      }
      // The pieces are views of the channel's chunks: handed on as they are, never joined.
      for (const piece of pieces!) if (piece.length > 0) controller.enqueue(piece);
      this.#fill();
    } catch (error) {
      await this.#finish().catch(noop);
      throw error;
    }
  }

  /** Stops issuing and closes the handle; answers to requests still in flight are dropped. */
  async #finish(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#segments = [];
    const handle = this.#handle;
    if (handle !== undefined) expectOk(await this.#link.request(M.Close, { handle }), this.#path);
  }

  cancel(): Promise<void> {
    return this.#finish().catch(noop);
  }

  #fill(): void {
    while (!this.#done && this.#segments.length < this.#concurrency && this.#next < this.#end) {
      const length = Math.min(this.#chunkSize, this.#end - this.#next);
      this.#segments.push(this.#issue(this.#next, length));
      this.#next += length;
    }
  }

  #issue(offset: number, length: number): Segment {
    const response = this.#link.read(this.#handle!, offset, length);
    response.catch(noop);
    return { offset, length, response };
  }
}

/**
 * Builds the ReadableStream of `createReadStream`; the file opens on the first read.
 * @param link the session's link
 * @param path the remote file
 * @param options range and pipelining
 * @returns the file's bytes in order
 */
export function createSftpReadStream(
  link: ClientLink,
  path: string,
  options: Required<Pick<SftpReadStreamOptions, 'chunkSize' | 'concurrency'>> & SftpReadStreamOptions,
): ReadableStream<Uint8Array> {
  const pipeline = new ReadPipeline(link, path, options);
  return new ReadableStream<Uint8Array>(
    { pull: (controller) => pipeline.pull(controller), cancel: () => pipeline.cancel() },
    { highWaterMark: 0 },
  );
}
