/**
 * A pipelined upload as a WritableStream (draft-ietf-secsh-filexfer-02 §6.4): the chunks become
 * WRITE requests at increasing offsets, up to `concurrency` of them in flight. Each WRITE is cut so
 * that header and data fill whole channel packets (CHANNEL_PACKET): the bytes of a chunk past the
 * last full packet (less than one packet) are copied aside and lead the next chunk's first WRITE,
 * or go out on their own once the producer pauses (the next timer turn) or closes. So small
 * writes are gathered into WRITEs of whole packets instead of one request each, a 256 KiB chunk
 * takes 8 packets instead of 9 and a 64 KiB one 2 instead of 3: every per-packet cost below
 * (sealing, socket writes, the peer's work) is paid once less per chunk.
 * `write()` resolves once the chunk's bytes are copied (into channel packets, or aside) and there
 * is room for more, so the producer may reuse its buffer, a slow server slows the writer, and
 * memory stays at the requests in flight. The first failed WRITE fails the stream; `close()`
 * waits for every answer, then closes the handle.
 */
import { CHANNEL_PACKET, writeHeaderLength, type ClientLink } from './client-link.js';
import { OpenFlags } from './constants.js';
import { SftpAttributes } from './attributes.js';
import * as M from './messages.js';
import { expectAttrs, expectHandle, expectOk } from './responses.js';

const noop = (): void => {};
const EMPTY = new Uint8Array(0);

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
  /** A copy of the bytes past the last full packet of the previous chunks: `#carried` (< one packet) of them. */
  readonly #carry = new Uint8Array(CHANNEL_PACKET);
  #carried = 0;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

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
    this.#cancelFlush();
    const header = writeHeaderLength(handle);
    // The largest WRITE that fills whole packets; 0 when chunkSize is below one packet.
    const largest = Math.floor((this.#options.chunkSize + header) / CHANNEL_PACKET) * CHANNEL_PACKET - header;
    let consumed: Promise<void> | undefined;
    if (largest <= 0) {
      for (let at = 0; at < chunk.length; at += this.#options.chunkSize) {
        await this.#room();
        consumed = this.#issue(handle, chunk.subarray(at, at + this.#options.chunkSize), EMPTY) ?? consumed;
      }
    } else {
      // ClientLink.write copies a lead shorter than a packet before returning: the carry buffer is
      // free again as soon as a WRITE took it.
      let lead = this.#carry.subarray(0, this.#carried);
      let at = 0;
      for (;;) {
        const size = Math.min(largest, Math.floor((lead.length + chunk.length - at + header) / CHANNEL_PACKET) * CHANNEL_PACKET - header);
        if (size <= 0) break;
        await this.#room();
        const take = size - lead.length;
        consumed = this.#issue(handle, chunk.subarray(at, at + take), lead) ?? consumed;
        at += take;
        lead = EMPTY;
      }
      // Less than a packet is left (after a lead no WRITE took, still in place): it is copied
      // aside and waits for the next chunk.
      this.#carry.set(chunk.subarray(at), lead.length);
      this.#carried = lead.length + chunk.length - at;
    }
    // The channel holds views of `chunk` until its last view is sent (channel writes go in order);
    // the producer may reuse it afterwards. A WRITE copied whole is not waited for: the requests in
    // flight bound those.
    await consumed;
    if (this.#failure !== undefined) throw this.#failure;
    // A producer with more at hand writes again before the next timer turn; one that pauses gets
    // the bytes set aside sent then.
    if (this.#carried > 0) this.#flushTimer = setTimeout(() => this.#flushCarry(), 0);
  }

  /** Waits until fewer than `concurrency` WRITEs are in flight; throws the first failure. */
  async #room(): Promise<void> {
    while (this.#inFlight.length >= this.#options.concurrency) await this.#inFlight.shift();
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Sends `lead` then `data` as one WRITE at the current offset; see ClientLink.write for `consumed`. */
  #issue(handle: Uint8Array, data: Uint8Array, lead: Uint8Array): Promise<void> | undefined {
    const sent = this.#link.write(handle, this.#offset, data, lead);
    this.#offset += lead.length + data.length;
    this.#inFlight.push(sent.response.then((reply) => expectOk(reply, this.#path)).catch((error: unknown) => void (this.#failure ??= error)));
    return sent.consumed;
  }

  /** The producer paused (or closes): the bytes set aside go out as a WRITE of their own. */
  #flushCarry(): void {
    this.#cancelFlush();
    if (this.#carried === 0 || this.#failure !== undefined) return;
    // Past the concurrency bound by at most this one WRITE of less than a packet (copied by the link).
    this.#issue(this.#handle!, this.#carry.subarray(0, this.#carried), EMPTY);
    this.#carried = 0;
  }

  #cancelFlush(): void {
    if (this.#flushTimer === undefined) return;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  async close(): Promise<void> {
    this.#handle ??= await this.#open();
    this.#flushCarry();
    await Promise.all(this.#inFlight.splice(0));
    const closed = this.#link.request(M.Close, { handle: this.#handle });
    if (this.#failure !== undefined) {
      closed.catch(noop);
      throw this.#failure;
    }
    expectOk(await closed, this.#path);
  }

  async abort(): Promise<void> {
    this.#cancelFlush();
    this.#carried = 0;
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
