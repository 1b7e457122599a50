/**
 * The inbound data path of one channel (RFC 4254 §5.2, §5.3 EOF): CHANNEL_DATA and EXTENDED_DATA
 * checked against our window and maximum packet, queued into `readable` / `stderr`, credit granted
 * back as the readers consume, and the peer's EOF ending both. Each readable is built on first
 * access; until then its data waits here, already counted against the window. Owns no request,
 * close or outbound state: Channel wires it (channel.ts).
 */
import { ProtocolError } from '../errors.js';
import { InboundWindow } from './window.js';

type Source = ReadableStreamDefaultController<Uint8Array>;

const byteLength = (chunk: Uint8Array): number => chunk.byteLength;

/**
 * One readable of a channel (data or stderr). Until the stream exists, chunks wait in `#pending`
 * and an end (close or error) is recorded; both apply when it is built.
 */
class InboundStream {
  /** False once closed, cancelled or errored: later data is discarded and credited at once. */
  open = true;
  readonly #receiver: ChannelReceiver;
  #stream: ReadableStream<Uint8Array> | undefined;
  #controller: Source | undefined;
  #pending: Uint8Array[] | undefined;
  #pendingBytes = 0;
  #end: { error?: unknown } | undefined;

  constructor(receiver: ChannelReceiver) {
    this.#receiver = receiver;
  }

  /** Default stream with a byte-length strategy (highWaterMark = window): see Channel's module doc. */
  get stream(): ReadableStream<Uint8Array> {
    this.#stream ??= new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#controller = c;
          for (const data of this.#pending ?? []) c.enqueue(data);
          this.#pending = undefined;
          this.#pendingBytes = 0;
          if (this.#end !== undefined) {
            if ('error' in this.#end) c.error(this.#end.error);
            else c.close();
          }
        },
        pull: () => this.#receiver.grant(),
        cancel: () => {
          this.open = false;
          this.#receiver.cancelled(this);
        },
      },
      { highWaterMark: this.#receiver.maxWindow, size: byteLength },
    );
    return this.#stream;
  }

  /** Bytes received and not yet read. */
  get queued(): number {
    if (this.#controller === undefined) return this.#pendingBytes;
    const max = this.#receiver.maxWindow;
    return max - (this.#controller.desiredSize ?? max);
  }

  enqueue(data: Uint8Array): void {
    if (this.#controller !== undefined) return this.#controller.enqueue(data);
    (this.#pending ??= []).push(data);
    this.#pendingBytes += data.length;
  }

  /** Ends the stream after the data already queued. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.#controller !== undefined) this.#controller.close();
    else this.#end = {};
  }

  /** Errors the stream; queued data is dropped. */
  error(error: unknown): void {
    if (!this.open) return;
    this.open = false;
    if (this.#controller !== undefined) return this.#controller.error(error);
    this.#end = { error };
    this.#pending = undefined;
  }
}

/** What a receiver tells its channel. */
export interface ChannelReceiverEvents {
  /** Send WINDOW_ADJUST for `bytesToAdd`. */
  adjustWindow(bytesToAdd: number): void;
  /** `readable` was cancelled by its reader. */
  readCancelled(): void;
}

/** The limits a receiver enforces. */
export interface ChannelReceiverOptions {
  /** Our channel number, for error messages. */
  channelId: number;
  /** The window we advertised (and the bound of the inbound queues). */
  maxWindow: number;
  /** The maximum packet we advertised. */
  maxPacket: number;
}

/** Receives one channel's data and extended data within our window. */
export class ChannelReceiver {
  /** The window we advertised. */
  readonly maxWindow: number;
  readonly #events: ChannelReceiverEvents;
  readonly #channelId: number;
  readonly #maxPacket: number;
  readonly #window: InboundWindow;
  readonly #out: InboundStream;
  /** Built on the first extended data or `stderr` access: most channels never carry any. */
  #err: InboundStream | undefined;
  /**
   * Set by the peer's EOF or the end of the channel (no error) or of the session (its error): data is
   * no longer accepted nor credited, and a stderr built later starts ended this way.
   */
  #stopped: { error?: unknown } | undefined;

  constructor(events: ChannelReceiverEvents, options: ChannelReceiverOptions) {
    this.#events = events;
    this.#channelId = options.channelId;
    this.#maxPacket = options.maxPacket;
    this.maxWindow = options.maxWindow;
    this.#window = new InboundWindow(options.maxWindow);
    this.#out = new InboundStream(this);
  }

  /** Data from the peer (the channel's `readable`). */
  get readable(): ReadableStream<Uint8Array> {
    return this.#out.stream;
  }

  /** Extended data type 1 from the peer (the channel's `stderr`). */
  get stderr(): ReadableStream<Uint8Array> {
    return (this.#err ??= this.#newStderr()).stream;
  }

  /** RFC 4254 §5.2: CHANNEL_DATA from the peer. */
  data(data: Uint8Array): void {
    if (!this.#accepts(data)) return;
    if (this.#out.open) this.#out.enqueue(data);
    else this.grant();
  }

  /** RFC 4254 §5.2: CHANNEL_EXTENDED_DATA from the peer; only type 1 (stderr) is kept. */
  extendedData(dataTypeCode: number, data: Uint8Array): void {
    if (!this.#accepts(data)) return;
    const err = dataTypeCode === 1 ? (this.#err ??= this.#newStderr()) : undefined;
    if (err?.open) err.enqueue(data);
    else this.grant();
  }

  /** RFC 4254 §5.3: the peer's EOF; both readables close after their queued data. */
  eof(): void {
    if (this.#stopped !== undefined) return;
    this.end();
  }

  /** The channel ended: both readables close after their queued data; nothing more is credited. */
  end(): void {
    this.#stopped ??= {};
    this.#out.close();
    this.#err?.close();
  }

  /** The session ended: both readables error with `error`. */
  fail(error: unknown): void {
    this.#stopped ??= { error };
    this.#out.error(error);
    this.#err?.error(error);
  }

  /** RFC 4254 §5.2: grants the peer what the readers consumed, once it is worth a message. */
  grant(): void {
    if (this.#stopped !== undefined) return;
    const queued = (this.#out.open ? this.#out.queued : 0) + (this.#err?.open ? this.#err.queued : 0);
    const n = this.#window.credit(queued);
    if (n > 0) this.#events.adjustWindow(n);
  }

  /** A reader cancelled `stream`: its data is credited from now on. */
  cancelled(stream: InboundStream): void {
    this.grant();
    if (stream === this.#out) this.#events.readCancelled();
  }

  /** RFC 4254 §5.2: checks packet size and window; false when the data is to be dropped. */
  #accepts(data: Uint8Array): boolean {
    if (this.#stopped !== undefined) return false;
    if (data.length > this.#maxPacket) {
      throw new ProtocolError(`Peer sent ${data.length} bytes in one packet on channel ${this.#channelId}; maximum is ${this.#maxPacket}`);
    }
    this.#window.consume(data.length, this.#channelId);
    return true;
  }

  /** A stderr built after the channel ended starts ended the same way. */
  #newStderr(): InboundStream {
    const err = new InboundStream(this);
    const end = this.#stopped;
    if (end !== undefined && 'error' in end) err.error(end.error);
    else if (end !== undefined) err.close();
    return err;
  }
}
