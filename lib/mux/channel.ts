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
 * Streams and promises are built on first access, their state so far applied on creation (a channel
 * is cheap until used). The inbound data path (readables, window credit, EOF) is channel-receiver.ts.
 */
import { ChannelClosedError } from '../errors.js';
import { encode, encodeFields } from '../codec/schema.js';
import { ChannelClose, ChannelEof, ChannelFailure, ChannelRequest, ChannelSuccess, encodeChannelWindowAdjust } from '../codec/messages/connection.js';
import * as Req from '../codec/messages/session-requests.js';
import { ChannelReceiver, type ChannelReceiverEvents } from './channel-receiver.js';
import { ChannelSender } from './channel-sender.js';
import { exitFields, exitRequest, ReplyFifo, RequestQueue, type QueuedRequest } from './channel-requests.js';
import { ChannelRequestEvent, type RequestHandler } from './events.js';
import type {
  AgentForwardingTarget,
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
const byteLength = (chunk: Uint8Array): number => chunk.byteLength;
/** Bytes a writable buffers before `writer.ready` waits (the sender adds its own coalescing buffer). */
const writableStrategy: QueuingStrategy<Uint8Array> = { highWaterMark: 64 * 1024, size: byteLength };

/** An SSH channel: a Duplex `{ readable, writable }` plus `stderr`, requests and close. */
export class Channel {
  /** The channel type, e.g. "session". */
  readonly channelType: string;
  /** Our channel number (the peer's recipient channel). */
  readonly channelId: number;

  readonly #host: ChannelHost;
  readonly #receiver: ChannelReceiver;
  readonly #requests: RequestQueue;
  #replies: ReplyFifo | undefined;
  /** exit-status / exit-signal fields received so far (RFC 4254 §6.10). */
  #exit: Omit<ChannelCloseInfo, 'closedBy'> | undefined;
  #remoteId: number | undefined;
  #sender: ChannelSender | undefined;
  /** Built when a write or request waits for the open confirmation. */
  #opened: Promise<void> | undefined;
  #resolveOpened: (() => void) | undefined;
  #closed: Promise<ChannelCloseInfo> | undefined;
  #resolveClosed: ((info: ChannelCloseInfo) => void) | undefined;
  #closeInfo: ChannelCloseInfo | undefined;
  /** Set once ended: the error writes and our requests fail with, or the message of a ChannelClosedError
   *  built when first needed (capturing its stack costs more than the rest of a close). */
  #ended: Error | string | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #writeSink: Sink | undefined;
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
    this.#requests = new RequestQueue(options.host.pendingRequests);
    this.channelType = options.channelType;
    this.channelId = options.localId;
    const inbound = new Channel.#Inbound(this);
    this.#receiver = new ChannelReceiver(inbound, { channelId: options.localId, maxWindow: options.maxWindowSize, maxPacket: options.maxPacketSize });
    options.bind(inbound);
  }

  /** Data from the peer; reading grants the peer more window. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#receiver.readable;
  }

  /** Data to the peer; `close()` sends EOF, `abort()` sends CLOSE. */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>(
      {
        start: (c) => this.#startSink((this.#writeSink = c)),
        write: async (chunk) => (await this.#whenOpen()).write(chunk),
        close: async () => {
          await (await this.#whenOpen()).flush();
          this.#stdoutDone = true;
          this.#maybeSendEof();
        },
        abort: () => this.close(),
      },
      writableStrategy,
    );
    return this.#writable;
  }

  /** Settles once with how the channel ended; never rejects. */
  get closed(): Promise<ChannelCloseInfo> {
    this.#closed ??=
      this.#closeInfo !== undefined ? Promise.resolve(this.#closeInfo) : new Promise((resolve) => (this.#resolveClosed = resolve));
    return this.#closed;
  }

  /** Extended data type 1 from the peer; shares the channel window with `readable`. */
  get stderr(): ReadableStream<Uint8Array> {
    return this.#receiver.stderr;
  }

  /**
   * The session this channel belongs to (a ClientSession or ServerSession; the Connection when
   * one was built without a session). Per-session limits, such as serveExec's, are keyed on it.
   */
  get session(): object {
    return this.#host.owner;
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
      start: (c) => this.#startSink((this.#stderrSink = c)),
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
    // The channel may have closed while this call waited: a reply registered now would never come.
    if (this.isClosed) throw new ChannelClosedError(`Channel ${this.channelId} closed before ${requestType} was sent`);
    const reply = wantReply ? (this.#replies ??= new ReplyFifo()).expect() : undefined;
    reply?.catch(noop);
    await this.#host.send(encode(ChannelRequest, { recipientChannel: this.#remoteId!, requestType, wantReply, data }));
    return reply === undefined ? true : await reply;
  }

  /** RFC 4254 §6.5 */
  exec(command: string): Promise<boolean> {
    return this.request({ requestType: 'exec', wantReply: true, data: encodeFields(Req.ExecRequest, { command }) });
  }

  /**
   * OpenSSH PROTOCOL §4.1 (`ssh -A`): asks the server to forward agent connections back over
   * this session; each `auth-agent@openssh.com` channel it opens is piped to `agent`.
   * @param agent an `SSH_AUTH_SOCK` path (Node) or a function giving a byte pair to an agent
   * @example await channel.requestAgentForwarding(process.env.SSH_AUTH_SOCK!); await channel.exec('ssh-add -l');
   */
  async requestAgentForwarding(agent: AgentForwardingTarget): Promise<boolean> {
    this.#host.forwardAgent(agent);
    return this.request({ requestType: 'auth-agent-req@openssh.com', wantReply: true });
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
      const { requestType, data } = exitRequest(options);
      this.#host.send(encode(ChannelRequest, { recipientChannel: this.#remoteId, requestType, wantReply: false, data })).catch(noop);
    }
    this.#closeLocally();
  }

  /** Pipes this channel and `other` both ways (data, stderr, requests, EOF, close); resolves when either closes. */
  pipe(other: Channel): Promise<void> {
    return pipeChannels(this, other);
  }

  #whenOpen(): Promise<ChannelSender> | ChannelSender {
    if (this.#sender !== undefined) return this.#sender;
    const opened = this.#ended !== undefined ? Promise.resolve() : (this.#opened ??= new Promise((resolve) => (this.#resolveOpened = resolve)));
    return opened.then(() => {
      if (this.#sender === undefined) throw new ChannelClosedError(`Channel ${this.channelId} is closed`);
      return this.#sender;
    });
  }

  /** A writable built after the channel ended starts errored. */
  #startSink(sink: Sink): void {
    if (this.#ended !== undefined) sink.error(this.#endError());
  }

  #maybeSendEof(): void {
    if (!this.#stdoutDone || (this.#stderrWritable !== undefined && !this.#stderrDone)) return;
    if (this.#eofSent || this.isClosed) return;
    this.#eofSent = true;
    this.#host.send(encode(ChannelEof, { recipientChannel: this.#remoteId! })).catch(noop);
    if (this.#readCancelled) this.#closeLocally();
  }

  #endError(): Error {
    if (typeof this.#ended === 'string') this.#ended = new ChannelClosedError(this.#ended);
    return this.#ended!;
  }

  /** Fails writes and our pending requests; the sender is only written through the writables. */
  #endWritables(reason: Error | string): void {
    this.#ended ??= reason;
    this.#requests.close();
    this.#resolveOpened?.();
    if (this.#writable === undefined && this.#stderrWritable === undefined && !this.#replies?.size) return;
    const error = this.#endError();
    this.#sender?.fail(error);
    this.#writeSink?.error(error);
    this.#stderrSink?.error(error);
    this.#replies?.fail(error);
  }

  /** Settles `closed` (at most once). */
  #settleClosed(closedBy: ChannelCloseInfo['closedBy'], error?: Error): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = { closedBy, ...(error && { error }), ...this.#exit };
    this.#resolveClosed?.(this.#closeInfo);
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
    this.#endWritables(`Channel ${this.channelId} was closed`);
    this.#settleClosed('local');
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

  /** The peer's side of one channel: the connection routes peer events here and the receiver calls
   *  back through it. One small object per channel whose methods are shared (no closures per channel). */
  static readonly #Inbound = class implements ChannelInbound, ChannelReceiverEvents {
    readonly #channel: Channel;

    constructor(channel: Channel) {
      this.#channel = channel;
    }

    /** RFC 4254 §5.1 */
    confirm(remoteId: number, initialWindow: number, maxPacket: number): void {
      const c = this.#channel;
      c.#remoteId = remoteId;
      const window = new OutboundWindow(initialWindow, Math.min(maxPacket, 256 * 1024));
      c.#sender = new ChannelSender({ window, recipient: remoteId, link: c.#host });
      c.#resolveOpened?.();
    }

    data(data: Uint8Array): void {
      this.#channel.#receiver.data(data);
    }

    extendedData(dataTypeCode: number, data: Uint8Array): void {
      this.#channel.#receiver.extendedData(dataTypeCode, data);
    }

    windowAdjust(bytesToAdd: number): void {
      this.#channel.#sender?.windowAdjusted(bytesToAdd, this.#channel.channelId);
    }

    /** RFC 4254 §5.2 */
    adjustWindow(bytesToAdd: number): void {
      const c = this.#channel;
      if (c.#remoteId !== undefined) c.#host.send(encodeChannelWindowAdjust(c.#remoteId, bytesToAdd)).catch(noop);
    }

    readCancelled(): void {
      this.#channel.#readCancelled = true;
      if (this.#channel.#eofSent) this.#channel.#closeLocally();
    }

    eof(): void {
      this.#channel.#receiver.eof();
    }

    /** RFC 4254 §5.3: the peer's CLOSE; we reply with ours unless we sent it already. */
    close(): void {
      const c = this.#channel;
      if (c.#closeReceived || c.#failed) return;
      c.#closeReceived = true;
      c.#receiver.end();
      c.#endWritables(`Channel ${c.channelId} was closed by the peer`);
      if (!c.#closeSent) {
        c.#sendClose();
        c.#settleClosed('remote');
      }
    }

    /** RFC 4254 §5.4 */
    request(requestType: string, wantReply: boolean, data: Uint8Array): void {
      const c = this.#channel;
      if (c.isClosed) return;
      const event = new ChannelRequestEvent(c, requestType, wantReply, data);
      let run = (): Promise<boolean> => c.#dispatch(event);
      if (requestType === 'exit-status' || requestType === 'exit-signal') {
        c.#exit = { ...c.#exit, ...exitFields(event) }; // on arrival, so a CLOSE right behind it still reports it
        run = async () => true;
      }
      const item: QueuedRequest = { run, respond: (ok) => wantReply && c.#reply(ok) };
      c.#requests.push(item, c.channelId, data.length);
    }

    queue(event: ChannelRequestEvent, respond: (success: boolean) => void): void {
      const c = this.#channel;
      c.#requests.push({ run: () => c.#dispatch(event), respond }, c.channelId, event.data.length);
    }

    reply(success: boolean): void {
      this.#channel.#replies?.settle(success);
    }

    fail(error: Error): void {
      const c = this.#channel;
      if (c.#failed) return;
      const wasClosed = c.isClosed;
      c.#failed = true;
      c.#receiver.fail(error);
      c.#endWritables(error);
      if (!wasClosed) c.#settleClosed('session', error);
    }

    deliver(): void {
      this.#channel.#requests.release();
    }
  };
}
