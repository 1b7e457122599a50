/**
 * One SSH channel (RFC 4254 §5) as Web Streams: `readable`/`stderr` are bounded by our window and
 * grant credit as they are consumed; `writable` sends within the peer's window. Owns the close
 * handshake, channel requests and the RFC 4254 §6 helpers; does not own routing or ids (connection.ts).
 *
 * | local action / peer event | effect |
 * |---|---|
 * | `writable` write | CHANNEL_DATA slices <= min(peer max packet, peer window); waits for WINDOW_ADJUST at 0 |
 * | `writable.close()` | CHANNEL_EOF (after `stderrWritable` too, when it was used) |
 * | `writable.abort()` / `channel.close()` | CHANNEL_CLOSE |
 * | reader consumes | WINDOW_ADJUST once credit passes half the window |
 * | `readable.cancel()` | further data discarded and credited at once; CLOSE once the write side is done too |
 * | peer EOF | `readable` and `stderr` close after queued data |
 * | peer CLOSE | both streams end; pending writes reject with `ChannelClosedError`; reply CLOSE |
 * | peer data beyond window | `ProtocolError` (the session sends DISCONNECT) |
 * | session error / DISCONNECT | every stream errors with the same error object |
 *
 * `stderr` shares the channel window: a stalled stderr reader stalls stdout, as in OpenSSH and Go.
 * Readables are default streams with a byte-length strategy (highWaterMark = window), not
 * `type: 'bytes'`: a byte stream would transfer (detach) the buffer each packet's data is a view of.
 * The inbound data path (readables, window credit, EOF) is channel-receiver.ts.
 */
import { ChannelClosedError } from '../errors.js';
import { encode, encodeFields } from '../codec/schema.js';
import {
  ChannelClose,
  ChannelEof,
  ChannelFailure,
  ChannelRequest,
  ChannelSuccess,
  encodeChannelWindowAdjust,
} from '../codec/messages/connection.js';
import * as Req from '../codec/messages/session-requests.js';
import { ChannelReceiver } from './channel-receiver.js';
import { ChannelSender } from './channel-sender.js';
import { ReplyFifo, RequestQueue, type QueuedRequest } from './channel-requests.js';
import { ChannelRequestEvent, type RequestHandler } from './events.js';
import type {
  ChannelCloseInfo,
  ChannelCloseOptions,
  ChannelHost,
  ChannelInbound,
  ChannelOptions,
  ChannelRequestOptions,
} from './channel-types.js';
import { OutboundWindow } from './window.js';
import { pipeChannels } from './channel-pipe.js';

export type * from './channel-types.js';

type Sink = WritableStreamDefaultController;
const noop = (): void => {};

/** An SSH channel: a Duplex `{ readable, writable }` plus `stderr`, requests and close. */
export class Channel {
  /** The channel type, e.g. "session". */
  readonly channelType: string;
  /** Our channel number (the peer's recipient channel). */
  readonly channelId: number;
  /** Data from the peer; reading grants the peer more window. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Data to the peer; `close()` sends EOF, `abort()` sends CLOSE. */
  readonly writable: WritableStream<Uint8Array>;
  /** Settles once with how the channel ended; never rejects. */
  readonly closed: Promise<ChannelCloseInfo>;

  readonly #host: ChannelHost;
  readonly #receiver: ChannelReceiver;
  readonly #replies = new ReplyFifo();
  readonly #requests = new RequestQueue();
  readonly #exit: Omit<ChannelCloseInfo, 'closedBy'> = {};
  #remoteId: number | undefined;
  #sender: ChannelSender | undefined;
  #opened: { promise: Promise<void>; resolve: () => void };
  #resolveClosed!: (info: ChannelCloseInfo) => void;
  #writeSink!: Sink;
  #stderrSink: Sink | undefined;
  #stderrWritable: WritableStream<Uint8Array> | undefined;
  #stdoutDone = false;
  #stderrDone = false;
  #readCancelled = false;
  #eofSent = false;
  #closeSent = false;
  #closeReceived = false;
  #failed = false;
  #onRequest: RequestHandler<ChannelRequestEvent> | undefined;

  constructor(options: ChannelOptions) {
    this.#host = options.host;
    this.channelType = options.channelType;
    this.channelId = options.localId;
    this.#receiver = new ChannelReceiver({
      channelId: options.localId,
      maxWindow: options.maxWindowSize,
      maxPacket: options.maxPacketSize,
      adjustWindow: (n) => {
        if (this.#remoteId !== undefined) this.#host.send(encodeChannelWindowAdjust(this.#remoteId, n)).catch(noop);
      },
      readCancelled: () => {
        this.#readCancelled = true;
        if (this.#eofSent) this.#closeLocally();
      },
    });
    let resolveOpened!: () => void;
    this.#opened = { promise: new Promise<void>((r) => (resolveOpened = r)), resolve: () => resolveOpened() };
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.readable = this.#receiver.readable;
    this.writable = new WritableStream<Uint8Array>(
      {
        start: (c) => void (this.#writeSink = c),
        write: async (chunk) => (await this.#whenOpen()).write(chunk),
        close: async () => {
          await (await this.#whenOpen()).flush();
          this.#stdoutDone = true;
          this.#maybeSendEof();
        },
        abort: () => this.close(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    );
    options.bind(this.#inbound());
  }

  /** Extended data type 1 from the peer; shares the channel window with `readable`. */
  get stderr(): ReadableStream<Uint8Array> {
    return this.#receiver.stderr;
  }

  /** The peer's channel number, once the open is confirmed. */
  get remoteChannelId(): number | undefined {
    return this.#remoteId;
  }

  /** True once CLOSE was sent or received, or the session ended. */
  get isClosed(): boolean {
    return this.#closeSent || this.#closeReceived || this.#failed;
  }

  /** Extended data type 1 to the peer (a server's stderr); shares the peer window with `writable`. */
  get stderrWritable(): WritableStream<Uint8Array> {
    this.#stderrWritable ??= new WritableStream<Uint8Array>({
      start: (c) => void (this.#stderrSink = c),
      write: async (chunk) => (await this.#whenOpen()).writeExtended(chunk, 1),
      close: () => {
        this.#stderrDone = true;
        this.#maybeSendEof();
      },
      abort: () => this.close(),
    });
    return this.#stderrWritable;
  }

  /** Handles the peer's channel requests (async allowed); truthy = SUCCESS. Unhandled = FAILURE. */
  get onRequest(): RequestHandler<ChannelRequestEvent> | undefined {
    return this.#onRequest;
  }

  set onRequest(handler: RequestHandler<ChannelRequestEvent> | undefined) {
    this.#onRequest = handler;
    this.#requests.release();
  }

  /**
   * RFC 4254 §5.4: sends a channel request; resolves with the reply (true without want_reply).
   * @throws ChannelClosedError when the channel is or becomes closed first
   */
  async request(options: ChannelRequestOptions): Promise<boolean> {
    const { requestType, wantReply = false, data = new Uint8Array(0) } = options;
    if (this.isClosed) throw new ChannelClosedError(`Channel ${this.channelId} is closed; cannot send ${requestType}`);
    await this.#whenOpen();
    const reply = wantReply ? this.#replies.expect() : undefined;
    reply?.catch(noop);
    await this.#host.send(encode(ChannelRequest, { recipientChannel: this.#remoteId!, requestType, wantReply, data }));
    return reply === undefined ? true : await reply;
  }

  /** RFC 4254 §6.5 */
  exec(command: string): Promise<boolean> {
    return this.request({ requestType: 'exec', wantReply: true, data: encodeFields(Req.ExecRequest, { command }) });
  }

  /** RFC 4254 §6.5 */
  shell(): Promise<boolean> {
    return this.request({ requestType: 'shell', wantReply: true });
  }

  /** RFC 4254 §6.5 */
  subsystem(name: string): Promise<boolean> {
    return this.request({ requestType: 'subsystem', wantReply: true, data: encodeFields(Req.SubsystemRequest, { subsystem: name }) });
  }

  /** RFC 4254 §6.2 */
  requestPty(pty: Req.PtyOptions): Promise<boolean> {
    return this.request({ requestType: 'pty-req', wantReply: true, data: Req.encodePtyRequest(pty) });
  }

  /** RFC 4254 §6.4 */
  setEnv(name: string, value: string): Promise<boolean> {
    return this.request({ requestType: 'env', wantReply: true, data: encodeFields(Req.EnvRequest, { name, value }) });
  }

  /** RFC 4254 §6.7 (no reply, as the RFC requires). */
  resizePty(size: Req.WindowSize): Promise<boolean> {
    return this.request({ requestType: 'window-change', data: Req.encodeWindowChange(size) });
  }

  /** RFC 4254 §6.9: `name` without "SIG" (e.g. "TERM"); no reply. */
  signal(name: string): Promise<boolean> {
    return this.request({ requestType: 'signal', data: encodeFields(Req.SignalRequest, { signal: name }) });
  }

  /**
   * Sends exit-status or exit-signal when given (RFC 4254 §6.10), then CHANNEL_CLOSE. Never waits
   * for the peer's CLOSE; unsent data is dropped (close the writable first to deliver it).
   */
  async close(options?: ChannelCloseOptions): Promise<void> {
    if (this.isClosed) return;
    if (options !== undefined && this.#remoteId !== undefined) {
      const recipientChannel = this.#remoteId;
      const data =
        'exitStatus' in options
          ? encodeFields(Req.ExitStatusRequest, { exitStatus: options.exitStatus })
          : encodeFields(Req.ExitSignalRequest, {
              exitSignal: options.exitSignal,
              coreDumped: options.coreDumped ?? false,
              errorMessage: options.errorMessage ?? '',
              languageTag: '',
            });
      const requestType = 'exitStatus' in options ? 'exit-status' : 'exit-signal';
      this.#host.send(encode(ChannelRequest, { recipientChannel, requestType, wantReply: false, data })).catch(noop);
    }
    this.#closeLocally();
  }

  /** Pipes this channel and `other` both ways (data, stderr, requests, EOF, close); resolves when either closes. */
  pipe(other: Channel): Promise<void> {
    return pipeChannels(this, other);
  }

  #whenOpen(): Promise<ChannelSender> | ChannelSender {
    if (this.#sender !== undefined) return this.#sender;
    return this.#opened.promise.then(() => {
      if (this.#sender === undefined) throw new ChannelClosedError(`Channel ${this.channelId} is closed`);
      return this.#sender;
    });
  }

  #maybeSendEof(): void {
    if (!this.#stdoutDone || (this.#stderrWritable !== undefined && !this.#stderrDone)) return;
    if (this.#eofSent || this.isClosed) return;
    this.#eofSent = true;
    this.#host.send(encode(ChannelEof, { recipientChannel: this.#remoteId! })).catch(noop);
    if (this.#readCancelled) this.#closeLocally();
  }

  #endWritables(error: Error): void {
    this.#sender?.fail(error);
    this.#writeSink.error(error);
    this.#stderrSink?.error(error);
    this.#replies.fail(error);
    this.#requests.close();
    this.#opened.resolve();
  }

  #sendClose(): void {
    this.#closeSent = true;
    if (this.#remoteId !== undefined) {
      this.#host.send(encode(ChannelClose, { recipientChannel: this.#remoteId })).catch(noop);
    }
    this.#host.release(this);
  }

  /** RFC 4254 §5.3: our CLOSE; the peer's reply is not awaited (some peers never send it). */
  #closeLocally(): void {
    if (this.isClosed) return;
    this.#sendClose();
    this.#receiver.end();
    this.#endWritables(new ChannelClosedError(`Channel ${this.channelId} was closed`));
    this.#resolveClosed({ closedBy: 'local', ...this.#exit });
  }

  #inbound(): ChannelInbound {
    const remoteId = (): number | undefined => this.#remoteId;
    return {
      get remoteId() {
        return remoteId();
      },
      confirm: (remoteId, initialWindow, maxPacket) => {
        this.#remoteId = remoteId;
        this.#sender = new ChannelSender({
          window: new OutboundWindow(initialWindow, Math.min(maxPacket, 256 * 1024)),
          recipient: remoteId,
          send: (p) => this.#host.send(p),
        });
        this.#opened.resolve();
      },
      data: (data) => this.#receiver.data(data),
      extendedData: (code, data) => this.#receiver.extendedData(code, data),
      windowAdjust: (n) => this.#sender?.windowAdjusted(n, this.channelId),
      eof: () => this.#receiver.eof(),
      close: () => this.#closedByPeer(),
      request: (requestType, wantReply, data) => this.#requestReceived(requestType, wantReply, data),
      queue: (event, respond) => this.#requests.push({ run: () => this.#dispatch(event), respond }, this.channelId),
      reply: (success) => void this.#replies.settle(success),
      fail: (error) => {
        if (this.#failed) return;
        const wasClosed = this.isClosed;
        this.#failed = true;
        this.#receiver.fail(error);
        this.#endWritables(error);
        if (!wasClosed) this.#resolveClosed({ closedBy: 'session', error, ...this.#exit });
      },
      deliver: () => void setTimeout(() => this.#requests.release(), 0),
    };
  }

  #closedByPeer(): void {
    if (this.#closeReceived || this.#failed) return;
    this.#closeReceived = true;
    this.#receiver.end();
    this.#endWritables(new ChannelClosedError(`Channel ${this.channelId} was closed by the peer`));
    if (!this.#closeSent) {
      this.#sendClose();
      this.#resolveClosed({ closedBy: 'remote', ...this.#exit });
    }
  }

  #requestReceived(requestType: string, wantReply: boolean, data: Uint8Array): void {
    if (this.isClosed) return;
    const event = new ChannelRequestEvent(this, requestType, wantReply, data);
    let run = (): Promise<boolean> => this.#dispatch(event);
    if (requestType === 'exit-status' || requestType === 'exit-signal') {
      // Recorded on arrival, so a CLOSE right behind it still reports it.
      for (const key of ['exitStatus', 'exitSignal', 'coreDumped', 'errorMessage'] as const) {
        if (event[key] !== undefined) (this.#exit as Record<string, unknown>)[key] = event[key];
      }
      run = async () => true;
    }
    const item: QueuedRequest = { run, respond: (ok) => wantReply && this.#reply(ok) };
    this.#requests.push(item, this.channelId);
  }

  async #dispatch(event: ChannelRequestEvent): Promise<boolean> {
    const service = this.#host.requestService(this, event.requestType);
    const handler = service?.onChannelRequest ?? this.#onRequest;
    if (handler === undefined) return false;
    return Boolean(await (service?.onChannelRequest ? service.onChannelRequest(event) : handler(event)));
  }

  #reply(success: boolean): void {
    if (this.isClosed || this.#remoteId === undefined) return;
    const schema = success ? ChannelSuccess : ChannelFailure;
    this.#host.send(encode(schema, { recipientChannel: this.#remoteId })).catch(noop);
  }
}
