/**
 * The connection protocol (RFC 4254) of one session, sans-I/O: the session hands every inbound
 * message 80-100 to `handleMessage` (synchronous; it never awaits a consumer) and this class sends
 * through a `ConnectionTransport`. Owns channel ids, opens, routing, global requests, services and
 * keepalives; does not own transport, kex, auth or custom message numbers (the session's).
 */
import { ChannelOpenError, ChannelOpenFailureReason, ProtocolError } from '../errors.js';
import type { SessionConfig } from '../config.js';
import { ProtocolExtensions } from '../algorithms.js';
import { decode, encode } from '../codec/schema.js';
import * as M from '../codec/messages/connection.js';
import { channelDataHeaderLength } from '../codec/messages/connection.js';
import { AcceptQueue } from './accept-queue.js';
import { Channel, type ChannelHost, type ChannelInbound, type ChannelRequestOptions } from './channel.js';
import type { AgentForwardingTarget } from './channel-types.js';

/** OpenSSH PROTOCOL §4.1: the channel type of one forwarded agent connection. */
export const agentChannelType = 'auth-agent@openssh.com';
import { DeliveryBatch, RequestBudget } from './channel-requests.js';
import { ChannelOpeningEvent, ChannelRequestEvent, RequestEvent, type RequestHandler } from './events.js';
import { GlobalRequests, type GlobalRequestOptions, type GlobalRequestReply } from './global-requests.js';
import * as Initial from './initial-request.js';
import { KeepAlive, keepAliveRequestType } from './keepalive.js';
import { Services, type ConnectionService } from './services.js';

/** What the connection needs from the transport (implemented by the session). */
export interface ConnectionTransport {
  /** Queues one message payload; order of calls = order on the wire. The promise resolves when the transport
   *  can take more (backpressure) and rejects if the session is closed. Never throws synchronously. */
  send(payload: Uint8Array): Promise<void>;
}

/** Options of a Connection. */
export interface ConnectionOptions {
  config: SessionConfig;
  isServer: boolean;
  /** Passed to service factories (normally the session). */
  owner?: unknown;
  /** Extensions the peer announced in EXT_INFO, when known before construction (see `setPeerExtensions`). */
  peerExtensions?: readonly string[];
}

/** Options of `openChannel`. */
export interface OpenChannelInit {
  /** A first channel request, sent with the open when the peer supports open-channel-request@microsoft.com. */
  initialRequest?: ChannelRequestOptions;
  /** Channel-type-specific CHANNEL_OPEN fields (e.g. direct-tcpip host and port). */
  data?: Uint8Array;
}

interface Entry {
  channel: Channel;
  inbound: ChannelInbound;
  /** The peer's channel number, known from CHANNEL_OPEN before we confirm. */
  remoteId?: number;
  opening?: { resolve: (m: M.ChannelOpenConfirmation) => void; reject: (e: unknown) => void };
}

const empty = new Uint8Array(0);
/**
 * The smallest maximum packet size a peer may advertise: below it a CHANNEL_DATA could not carry
 * one byte for peers that count its 9-byte header, and 0 would leave our sender nothing to send.
 */
const minimumPeerPacketSize = channelDataHeaderLength + 1;
const noop = (): void => {};

/** A throwing open handler refuses the open with its message (connect failed). */
const openHandlerFailed = (event: ChannelOpeningEvent, error: unknown): void =>
  event.reject(ChannelOpenFailureReason.connectFailed, error instanceof Error ? error.message : String(error));

const tooSmall = (size: number): string => `Maximum packet size ${size} is too small for channel data (at least ${minimumPeerPacketSize})`;

/** RFC 4254 connection protocol: channels, global requests, services and keepalive of one session. */
export class Connection {
  /** Decides incoming opens; reject with `e.reject(reason, description)`. Without it only `channelTypes` are accepted. */
  onChannelOpening: ((e: ChannelOpeningEvent) => void | Promise<void>) | undefined;
  /** Handles the peer's global requests (async allowed); truthy = SUCCESS. Unhandled = FAILURE. */
  onRequest: RequestHandler<RequestEvent> | undefined;
  /** Called once when `keepAliveCountMax` keepalives went unanswered; the session then closes. */
  onKeepAliveFailed: (() => void) | undefined;
  /** Channel types accepted when no `onChannelOpening` hook decides ("session" on a server). */
  readonly channelTypes: Set<string>;

  readonly #transport: ConnectionTransport;
  readonly #config: SessionConfig;
  readonly #entries = new Map<number, Entry>();
  readonly #globals: GlobalRequests;
  readonly #services: Services;
  readonly #keepAlive: KeepAlive;
  readonly #hasInitialRequestExtension: boolean;
  #initialSupport: Initial.InitialRequestSupport;
  readonly #incoming = new AcceptQueue();
  /** What every channel of this connection calls back into (one object, not closures per channel). */
  readonly #host: ChannelHost;
  readonly #delivery = new DeliveryBatch();
  #nextId = 0;
  #error: Error | undefined;
  #agentTarget: AgentForwardingTarget | undefined;
  /**
   * OpenSSH PROTOCOL §4.1: serves an `auth-agent@openssh.com` open once agent forwarding was
   * requested on a channel (set by the session; throwing refuses the open).
   */
  onAgentChannel: ((e: ChannelOpeningEvent, target: AgentForwardingTarget) => Promise<void>) | undefined;

  constructor(transport: ConnectionTransport, options: ConnectionOptions) {
    this.#transport = transport;
    this.#config = options.config;
    this.channelTypes = new Set(options.isServer ? ['session'] : []);
    const send = (p: Uint8Array): Promise<void> => this.#send(p);
    this.#globals = new GlobalRequests(send);
    this.#services = new Services(options.config.services, options.owner);
    this.#host = {
      owner: typeof options.owner === 'object' && options.owner !== null ? options.owner : this,
      pendingRequests: new RequestBudget(options.config.maxPendingChannelRequests, options.config.maxPendingChannelRequestBytes),
      send,
      release: (channel) => {
        if (this.#entries.get(channel.channelId)?.channel === channel) this.#entries.delete(channel.channelId);
      },
      requestService: (channel, requestType) => this.#services.forChannelRequest(channel.channelType, requestType),
      forwardAgent: (target) => {
        this.#agentTarget = target;
      },
    };
    this.#hasInitialRequestExtension = options.config.protocolExtensions.includes(ProtocolExtensions.openChannelRequest);
    this.#initialSupport = this.#hasInitialRequestExtension ? 'unknown' : 'unsupported';
    if (options.peerExtensions !== undefined) this.setPeerExtensions(options.peerExtensions);
    this.#keepAlive = new KeepAlive({
      intervalSeconds: options.config.keepAliveInterval,
      countMax: options.config.keepAliveCountMax,
      send: () => this.#globals.request({ requestType: keepAliveRequestType, wantReply: true }),
      onFailed: () => this.onKeepAliveFailed?.(),
    });
  }

  /** Extensions the peer announced in EXT_INFO (RFC 8308); call when it arrives. */
  setPeerExtensions(names: readonly string[]): void {
    if (!this.#hasInitialRequestExtension) return;
    this.#initialSupport = names.includes(ProtocolExtensions.openChannelRequest) ? 'supported' : 'unsupported';
  }

  /** Whether initial channel requests are bundled with opens (reference notes §2.2). */
  get initialRequestSupport(): Initial.InitialRequestSupport {
    return this.#initialSupport;
  }

  /** Channels in the table: opening, open, or closed by the peer and not yet answered. */
  get channelCount(): number {
    return this.#entries.size;
  }

  /** Incoming channels, in arrival order; ends when the connection closes. */
  get channels(): AsyncIterable<Channel> {
    return { [Symbol.asyncIterator]: () => this.#channelIterator() };
  }

  /**
   * The iterator behind `channels`, by hand rather than an async generator: each channel then
   * costs one promise instead of a generator's round of them (1000 opens at once feel the difference).
   */
  #channelIterator(): AsyncIterator<Channel> {
    let done = false;
    const end = (): IteratorResult<Channel> => ((done = true), { done: true, value: undefined });
    return {
      next: () =>
        done
          ? Promise.resolve(end())
          : this.#incoming.accept(undefined).then((value): IteratorResult<Channel> => ({ done: false, value }), end),
      return: () => Promise.resolve(end()),
    };
  }

  /** Something other than 80-100 arrived from the peer: it is alive (keepalive accounting). */
  markActivity(): void {
    this.#keepAlive.activity();
  }

  /**
   * Handles one inbound message 80-100 (type byte first), synchronously.
   * @throws ProtocolError for malformed input or data beyond a window (the session then disconnects)
   */
  handleMessage(payload: Uint8Array): void {
    if (this.#error !== undefined) return;
    this.#keepAlive.activity();
    const type = payload[0];
    switch (type) {
      case 94: {
        const m = M.decodeChannelData(payload);
        return this.#entries.get(m.recipientChannel)?.inbound.data(m.data);
      }
      case 95: {
        const m = M.decodeChannelExtendedData(payload);
        return this.#entries.get(m.recipientChannel)?.inbound.extendedData(m.dataTypeCode, m.data);
      }
      case 93: {
        const m = M.decodeChannelWindowAdjust(payload);
        return this.#entries.get(m.recipientChannel)?.inbound.windowAdjust(m.bytesToAdd);
      }
      case 80:
        return this.#globalRequestReceived(decode(M.GlobalRequest, payload));
      case 81:
        return void this.#globals.replied(true, decode(M.RequestSuccess, payload).data);
      case 82:
        decode(M.RequestFailure, payload);
        return void this.#globals.replied(false, empty);
      case 90:
        return this.#openReceived(M.decodeChannelOpen(payload));
      case 91: {
        const m = M.decodeChannelOpenConfirmation(payload);
        return this.#opening(m.recipientChannel)?.resolve(m);
      }
      case 92: {
        const m = decode(M.ChannelOpenFailure, payload);
        const entry = this.#entries.get(m.recipientChannel);
        if (entry?.opening === undefined) return;
        this.#entries.delete(m.recipientChannel);
        return entry.opening.reject(new ChannelOpenError(m.reasonCode, m.description));
      }
      case 96:
        return this.#entries.get(decode(M.ChannelEof, payload).recipientChannel)?.inbound.eof();
      case 97:
        return this.#entries.get(decode(M.ChannelClose, payload).recipientChannel)?.inbound.close();
      case 98: {
        const m = decode(M.ChannelRequest, payload);
        return this.#entries.get(m.recipientChannel)?.inbound.request(m.requestType, m.wantReply, m.data);
      }
      case 99:
        return this.#entries.get(decode(M.ChannelSuccess, payload).recipientChannel)?.inbound.reply(true);
      case 100:
        return this.#entries.get(decode(M.ChannelFailure, payload).recipientChannel)?.inbound.reply(false);
      default:
        throw new ProtocolError(`Message ${type} is not a connection protocol message (80-100)`);
    }
  }

  /**
   * RFC 4254 §5.1: opens a channel; resolves once the peer confirms (and accepts `init.initialRequest`).
   * @throws ChannelOpenError with the peer's reason, or resourceShortage beyond `config.maxChannels`
   */
  async openChannel(channelType = 'session', init: OpenChannelInit = {}): Promise<Channel> {
    if (this.#error !== undefined) throw this.#error;
    if (this.#entries.size >= this.#config.maxChannels) {
      throw new ChannelOpenError(ChannelOpenFailureReason.resourceShortage, `Channel limit ${this.#config.maxChannels} reached`);
    }
    const entry = this.#createEntry(channelType);
    const id = entry.channel.channelId;
    const confirmed = new Promise<M.ChannelOpenConfirmation>((resolve, reject) => (entry.opening = { resolve, reject }));
    this.#send(
      M.encodeChannelOpen({
        channelType,
        senderChannel: id,
        initialWindowSize: this.#config.maxChannelWindowSize,
        maximumPacketSize: this.#config.maxChannelPacketSize,
        data: init.data ?? empty,
      }),
    ).catch(noop);
    const request = init.initialRequest;
    const support = this.#initialSupport;
    let bundled: Promise<GlobalRequestReply> | undefined;
    if (request !== undefined && support !== 'unsupported') {
      const { requestType, wantReply: innerWantReply = false, data: innerData = empty } = request;
      const data = Initial.encodeInitialChannelRequest({ senderChannel: id, requestType, wantReply: innerWantReply, data: innerData });
      const wantReply = support === 'unknown' || innerWantReply;
      bundled = this.#globals.request({ requestType: Initial.initialChannelRequestType, wantReply, data });
      bundled.catch(noop);
    }
    const m = await confirmed;
    entry.opening = undefined;
    entry.remoteId = m.senderChannel;
    entry.inbound.confirm(m.senderChannel, m.initialWindowSize, m.maximumPacketSize);
    if (m.maximumPacketSize < minimumPeerPacketSize) {
      await entry.channel.close();
      throw new ChannelOpenError(ChannelOpenFailureReason.resourceShortage, tooSmall(m.maximumPacketSize));
    }
    if (request !== undefined) {
      let ok = bundled === undefined ? await entry.channel.request(request) : (await bundled).success;
      if (!ok && support === 'unknown') ok = await entry.channel.request(request);
      if (!ok) {
        await entry.channel.close();
        throw new ChannelOpenError(ChannelOpenFailureReason.administrativelyProhibited, 'The initial channel request was denied');
      }
    }
    this.#delivery.add(entry.inbound);
    return entry.channel;
  }

  /** The next incoming channel (of `channelType` when given), once it is confirmed. */
  acceptChannel(channelType?: string): Promise<Channel> {
    return this.#incoming.accept(channelType);
  }

  /** RFC 4254 §4: sends a global request; resolves with the reply (true without want_reply). */
  async request(options: GlobalRequestOptions): Promise<boolean> {
    return (await this.#globals.request(options)).success;
  }

  /** Like `request`, also returning the reply's request-specific data (e.g. the port tcpip-forward bound). */
  requestWithReply(options: GlobalRequestOptions): Promise<GlobalRequestReply> {
    return this.#globals.request(options);
  }

  /** Activates a registered service by name (e.g. on SSH_MSG_SERVICE_REQUEST); undefined when unknown. */
  activateService(name: string): ConnectionService | undefined {
    return this.#services.activate(name);
  }

  /** Activates the service registered for SSH_MSG_SERVICE_REQUEST `serviceName`, if any. */
  activateServiceRequest(serviceName: string): ConnectionService | undefined {
    return this.#services.forServiceRequest(serviceName);
  }

  /** The active service of that name, if activated. */
  getService(name: string): ConnectionService | undefined {
    return this.#services.get(name);
  }

  /** The session ended: every channel's streams error with `error`; pending opens and requests reject with it. */
  close(error: Error): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#keepAlive.dispose();
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) {
      entry.opening?.reject(error);
      entry.inbound.fail(error);
    }
    this.#globals.fail(error);
    this.#incoming.fail(error);
    this.#services.dispose();
  }

  /** Stops the keepalive timer (the session calls it when it closes or no longer needs keepalives). */
  dispose(): void {
    this.#keepAlive.dispose();
  }

  #send(payload: Uint8Array): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return this.#transport.send(payload);
  }

  #opening(id: number): Entry['opening'] {
    const entry = this.#entries.get(id);
    if (entry !== undefined && entry.opening === undefined) {
      throw new ProtocolError(`Open confirmation for channel ${id}, which is already open`);
    }
    return entry?.opening;
  }

  #allocateId(): number {
    while (this.#entries.has(this.#nextId)) this.#nextId = (this.#nextId + 1) >>> 0;
    const id = this.#nextId;
    this.#nextId = (id + 1) >>> 0;
    return id;
  }

  #createEntry(channelType: string): Entry {
    const entry = {} as Entry;
    entry.channel = new Channel({
      host: this.#host,
      channelType,
      localId: this.#allocateId(),
      maxWindowSize: this.#config.maxChannelWindowSize,
      maxPacketSize: this.#config.maxChannelPacketSize,
      bind: (inbound) => (entry.inbound = inbound),
    });
    this.#entries.set(entry.channel.channelId, entry);
    return entry;
  }

  /** RFC 4254 §5.1: the peer opens a channel. */
  #openReceived(m: M.ChannelOpen): void {
    // The description may echo the peer's channel type: capped, so a refusal is never a large reply.
    const refuse = (reason: number, description: string): void =>
      void this.#send(
        encode(M.ChannelOpenFailure, { recipientChannel: m.senderChannel, reasonCode: reason, description: description.slice(0, 256), languageTag: '' }),
      ).catch(noop);
    if (this.#entries.size >= this.#config.maxChannels) {
      return refuse(ChannelOpenFailureReason.resourceShortage, `Channel limit ${this.#config.maxChannels} reached`);
    }
    if (m.maximumPacketSize < minimumPeerPacketSize) return refuse(ChannelOpenFailureReason.resourceShortage, tooSmall(m.maximumPacketSize));
    const entry = this.#createEntry(m.channelType);
    entry.remoteId = m.senderChannel;
    this.#decideOpen(entry, m, refuse);
  }

  /**
   * Asks the hook, service or default rule about an incoming open. A handler that answers
   * synchronously gets the confirmation out in the same turn: no promise per open.
   */
  #decideOpen(entry: Entry, m: M.ChannelOpen, refuse: (reason: number, description: string) => void): void {
    const event = new ChannelOpeningEvent(entry.channel, m.data);
    let pending: unknown;
    try {
      pending = this.#askOpening(event, m.channelType);
    } catch (error) {
      openHandlerFailed(event, error);
    }
    if (typeof (pending as PromiseLike<void> | undefined)?.then !== 'function') return this.#finishOpen(entry, m, event, refuse);
    Promise.resolve(pending).then(
      () => this.#finishOpen(entry, m, event, refuse),
      (error: unknown) => {
        openHandlerFailed(event, error);
        this.#finishOpen(entry, m, event, refuse);
      },
    );
  }

  #askOpening(event: ChannelOpeningEvent, channelType: string): void | Promise<void> {
    const service = this.#services.forChannelType(channelType);
    // Only a connection that asked for agent forwarding accepts agent channels.
    if (channelType === agentChannelType && this.#agentTarget !== undefined && this.onAgentChannel) {
      return this.onAgentChannel(event, this.#agentTarget);
    }
    if (service?.onChannelOpening !== undefined) return service.onChannelOpening(event);
    if (this.onChannelOpening !== undefined) return this.onChannelOpening(event);
    if (!this.channelTypes.has(channelType) && !this.#incoming.isAwaited(channelType)) {
      event.reject(ChannelOpenFailureReason.unknownChannelType, `Unknown channel type ${channelType}`);
    }
  }

  /** RFC 4254 §5.1: CHANNEL_OPEN_CONFIRMATION or FAILURE, as the handlers decided. */
  #finishOpen(entry: Entry, m: M.ChannelOpen, event: ChannelOpeningEvent, refuse: (reason: number, description: string) => void): void {
    if (this.#error !== undefined) return;
    const id = entry.channel.channelId;
    if (event.failureReason !== undefined) {
      this.#entries.delete(id);
      entry.inbound.fail(new ChannelOpenError(event.failureReason, event.failureDescription));
      return refuse(event.failureReason, event.failureDescription);
    }
    this.#send(
      M.encodeChannelOpenConfirmation({
        recipientChannel: m.senderChannel,
        senderChannel: id,
        initialWindowSize: this.#config.maxChannelWindowSize,
        maximumPacketSize: this.#config.maxChannelPacketSize,
        data: empty,
      }),
    ).catch(noop);
    entry.inbound.confirm(m.senderChannel, m.initialWindowSize, m.maximumPacketSize);
    if (!event.handled) this.#incoming.deliver(entry.channel);
    this.#delivery.add(entry.inbound);
  }

  /** RFC 4254 §4: routes a peer global request to the extension, a service or `onRequest`. */
  #globalRequestReceived(m: M.GlobalRequest): void {
    const type = m.requestName;
    if (type === Initial.initialChannelRequestType && this.#hasInitialRequestExtension) {
      return this.#initialRequestReceived(m);
    }
    const event = new RequestEvent(type, m.wantReply, m.data);
    const answer = (ok: unknown): GlobalRequestReply => ({ success: Boolean(ok), data: ok ? (event.responseData ?? empty) : empty });
    // Synchronous when the handler is: the reply then goes out without waiting on a promise.
    this.#globals.received(m.wantReply, () => {
      // OpenSSH answers its own keepalive name with FAILURE too; any answer proves we are alive.
      if (type === keepAliveRequestType) return answer(false);
      const service = this.#services.forSessionRequest(type);
      let ok: unknown;
      if (service?.onSessionRequest !== undefined) ok = service.onSessionRequest(event);
      else if (this.onRequest !== undefined) ok = this.onRequest(event);
      return typeof (ok as PromiseLike<unknown> | undefined)?.then === 'function' ? Promise.resolve(ok).then(answer) : answer(ok);
    });
  }

  /** Reference notes §2.2: the embedded request goes to the channel the peer is opening, with want_reply false. */
  #initialRequestReceived(m: M.GlobalRequest): void {
    const request = Initial.decodeInitialChannelRequest(m.data);
    let target: Entry | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.remoteId === request.senderChannel && entry.opening === undefined) target = entry;
    }
    const event = target && new ChannelRequestEvent(target.channel, request.requestType, false, request.data);
    this.#globals.received(m.wantReply, () =>
      new Promise<GlobalRequestReply>((resolve) => {
        if (target === undefined || event === undefined) return resolve({ success: false, data: empty });
        target.inbound.queue(event, (success) => resolve({ success, data: empty }));
      }),
    );
  }
}
