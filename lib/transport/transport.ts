/**
 * One SSH transport connection over any `{ readable, writable }` byte pair (RFC 4253): version
 * exchange, the fused read loop (packet reader + dispatch, so keys prepared while handling a
 * message are in force for the very next packet), the outbound kex gate, re-key triggers,
 * EXT_INFO (RFC 8308), IGNORE/DEBUG/UNIMPLEMENTED. Upper layers see whole messages through
 * `onMessage` and send through `send`, whose promise is the backpressure of the link. Ending for
 * good lives in `transport-end.ts`, what session reconnection does to it in `reconnect-link.ts`.
 */
import { DisconnectError, DisconnectReason, HostKeyError, ProtocolError, SshError } from '../errors.js';
import { decode, encode } from '../codec/schema.js';
import { MessageType, Unimplemented } from '../codec/messages/transport.js';
import type { SessionConfig } from '../config.js';
import type { KeyPair } from '../keys/key-pair.js';
import type { MaybeCertifiedKey } from '../keys/certified-key.js';
import type { Certificate } from '../keys/certificate.js';
import { cipherAlgorithms, macAlgorithms } from '../cipher/registry.js';
import type { OpeningKey, SealingKey } from '../cipher/types.js';
import { PacketReader } from './packet-reader.js';
import { PacketWriter } from './packet-writer.js';
import { Outbound, type OutboundHost } from './outbound.js';
import { Inbound, type InboundHost } from './inbound.js';
import { TransportEnd } from './transport-end.js';
import { RekeySchedule } from './rekey-schedule.js';
import { ReconnectLink, type ReconnectLinkHost } from './reconnect-link.js';
import { identificationLine, readIdentification } from './version.js';
import { Handshake, type HandshakeHost, type KexOutcome } from './handshake.js';
import { decodeExtInfo, encodeExtInfo, ourExtensions } from './ext-info.js';
import type { ReconnectState } from './reconnect/reconnect-state.js';
import type { SessionCloseInfo, TransportMetrics, TransportOptions } from './transport-types.js';
import { toDuplex, type ByteStream } from './byte-stream-adapter.js';
import type { NegotiatedAlgorithms } from '../kex/negotiate.js';
import type { Tracer } from '../trace/tracer.js';
import { traceEnded, traceKexCompleted, traceKexStarted, traceVersions } from './transport-trace.js';

export type { Duplex, SessionCloseInfo, TransportMetrics, TransportOptions } from './transport-types.js';
export type { ByteStream, NativeByteStream } from './byte-stream-adapter.js';

const resolved = Promise.resolve();

/** A transport connection: the layer every session sits on. */
export class Transport {
  readonly isServer: boolean;
  readonly config: SessionConfig;
  readonly hostKeys: readonly MaybeCertifiedKey[];
  readonly #in: Inbound;
  readonly #out: Outbound;
  #handshake: Handshake;
  readonly #end: TransportEnd;
  #firstKex: { resolve: () => void; reject: (e: unknown) => void; promise: Promise<void> };
  readonly #timers = new RekeySchedule();
  /** Callers of rekey(), resolved once an exchange completes after the count they saw. */
  #kexWaiters: { after: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Session reconnection on this connection (notes §2.3). */
  readonly #link: ReconnectLink;
  #tracer: Tracer | undefined;
  clientVersion = '';
  serverVersion = '';
  /** What was negotiated in the latest exchange. */
  algorithms: NegotiatedAlgorithms | undefined;
  /** The server's host key (client: as received; server: the one that signed). */
  hostKey: KeyPair | undefined;
  /** The host key blob of the first exchange as sent (a certificate when one was used). */
  hostKeyBlob: Uint8Array | undefined;
  /** Client: the server's host certificate from the first exchange, decoded but unchecked. */
  hostCertificate: Certificate | undefined;
  /** Extensions the peer announced in EXT_INFO (RFC 8308), once received. */
  peerExtensions: Map<string, string> | undefined;
  /** Upper layers: returns false for a message nobody handles (answered with UNIMPLEMENTED). */
  onMessage: (payload: Uint8Array) => boolean = () => false;
  /** Called when an exchange completes. */
  onKeyExchange: (outcome: KexOutcome) => void = () => {};
  /** Called once when the transport ends, before `closed` settles. */
  onClose: (info: SessionCloseInfo) => void = () => {};
  /** Called when the peer's EXT_INFO arrives. */
  onExtInfo: (extensions: ReadonlyMap<string, string>) => void = () => {};
  /** Called when this connection starts sending reconnect trailers (the session became reconnectable). */
  onReconnectEnabled: () => void = () => {};
  /** RFC 4253 §11.4: the peer did not recognise our packet of this sequence number. */
  onUnimplemented: (packetSequenceNumber: number) => void = () => {};
  /** Called when the byte stream was lost and the session waits for a reconnect instead of closing. */
  onDisconnected: (error: SshError) => void = () => {};

  constructor(options: TransportOptions) {
    this.isServer = options.isServer;
    this.config = options.config;
    this.hostKeys = options.hostKeys ?? [];
    const host = new Transport.#Host(this);
    this.#link = new ReconnectLink(this.config, host);
    const reconnect = this.#link.state;
    const none = cipherAlgorithms.get('none')!;
    const macNone = macAlgorithms.get('none');
    const empty = { iv: new Uint8Array(0), encryptionKey: new Uint8Array(0), integrityKey: new Uint8Array(0) };
    const reader = new PacketReader({ opening: none.opening(empty, macNone), maxPacketLength: this.config.maxPacketLength });
    const writer = new PacketWriter({ sealing: none.sealing(empty, macNone), randomBytes: this.config.randomBytes });
    this.#out = new Outbound(writer, { isServer: this.isServer, reconnect, host });
    this.#handshake = new Handshake(host);
    this.#in = new Inbound(reader, { reconnect, host });
    this.#handshake.onComplete = (outcome) => this.#onKexComplete(outcome);
    this.#handshake.onStart = (initiatedBy) => {
      if (this.#tracer !== undefined) this.#traceKexStart(initiatedBy);
      this.#armKexTimer();
    };
    this.#end = new TransportEnd({
      inbound: this.#in,
      outbound: this.#out,
      ending: (info, error) => {
        this.#timers.clear();
        this.#link.stop();
        for (const waiter of this.#kexWaiters.splice(0)) waiter.reject(error);
        this.#firstKex.reject(error);
        if (this.#tracer !== undefined) traceEnded(this.#tracer, info);
        this.onClose(info);
      },
    });
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    promise.catch(() => {});
    this.#firstKex = { ...settle, promise };
    this.tracer = options.tracer;
  }

  /** The session's diagnostics, when tracing is on; a resumed session moves it to its new connection. */
  get tracer(): Tracer | undefined {
    return this.#tracer;
  }

  set tracer(tracer: Tracer | undefined) {
    this.#tracer = tracer;
    this.#in.trace = tracer;
    this.#out.trace = tracer;
  }

  /** H of the first exchange (RFC 4253 §7.2). */
  get sessionId(): Uint8Array | undefined {
    return this.#handshake.sessionId;
  }

  /** True between a successful connect and the end of the transport. */
  get isConnected(): boolean {
    return this.#out.attached && this.#end.info === undefined && this.#handshake.completed > 0;
  }

  get isClosed(): boolean {
    return this.#end.info !== undefined;
  }

  /** Settles once when the transport ends: resolves on a clean close, rejects with the error otherwise. */
  get closed(): Promise<SessionCloseInfo> {
    return this.#end.closed;
  }

  /** True while the byte stream is lost and the session waits for a reconnect (notes §2.3.4). */
  get isDisconnected(): boolean {
    return this.#link.lostWith !== undefined && this.#end.info === undefined;
  }

  /** Session reconnection state of this connection (sequence counters, send cache, latency), when configured. */
  get reconnect(): ReconnectState | undefined {
    return this.#link.state;
  }

  /**
   * Notes §2.3.5: this connection replaces a lost one of the same session: later re-keys derive
   * keys with the original session id, and what is sent from now on is kept for replay.
   */
  resumeSession(sessionId: Uint8Array): void {
    this.#handshake.sessionId = sessionId;
    this.#link.state?.resume();
  }

  /** True when the peer's first KEXINIT announced RFC 8308 (its EXT_INFO follows the first NEWKEYS). */
  get peerSendsExtInfo(): boolean {
    return this.#handshake.peerWantsExtInfo;
  }

  /** Integrity keys of the latest exchange (session reconnection tokens use them). */
  get integrityKeys(): { clientToServer: Uint8Array; serverToClient: Uint8Array } | undefined {
    return this.#handshake.integrityKeys;
  }

  get metrics(): TransportMetrics {
    return {
      bytesSent: this.#out.writer.totalBytes,
      bytesReceived: this.#in.reader.totalBytes,
      packetsSent: this.#out.writer.totalPackets,
      packetsReceived: this.#in.reader.totalPackets,
      keyExchanges: this.#handshake.completed,
    };
  }

  /** True when strict kex (Terrapin countermeasure) is in force. */
  get strictKex(): boolean {
    return this.#handshake.strict;
  }

  /**
   * RFC 4253 §4.2, §7: exchanges identification strings and runs the first key exchange.
   * Resolves when both NEWKEYS have passed; rejects (and closes) on any failure or abort.
   */
  async connect(stream: ByteStream, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#out.attached || this.#in.attached) throw new SshError('Transport is already connected');
    const duplex = toDuplex(stream);
    const { signal } = options;
    signal?.throwIfAborted();
    this.#out.attach(duplex.writable.getWriter());
    const byteReader = duplex.readable.getReader();
    const onAbort = (): void => this.#end.fail(new SshError('Connect aborted', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const ours = identificationLine();
      const ourVersion = new TextDecoder().decode(ours.subarray(0, ours.length - 2));
      if (this.isServer) this.serverVersion = ourVersion;
      else this.clientVersion = ourVersion;
      this.#out.writeRaw(ours);
      this.#handshake.start();
      const peer = await readIdentification(byteReader, !this.isServer);
      if (this.isServer) this.clientVersion = peer.version;
      else this.serverVersion = peer.version;
      if (this.#tracer !== undefined) traceVersions(this.#tracer, { local: ourVersion, remote: peer.version });
      this.#in.start(byteReader, peer.rest);
      await this.#firstKex.promise;
    } catch (error) {
      this.#end.fail(error);
      throw this.#end.info?.error ?? error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Queues one message. Order of calls is order on the wire. During a key exchange non-kex
   * messages wait (RFC 4253 §7.1); the promise resolves when the link can take more.
   */
  send(payload: Uint8Array): Promise<void> {
    if (this.#end.info) return Promise.reject(this.#end.error);
    const out = this.#out;
    if (!this.#handshake.outboundReady || out.queued > 0 || !out.attached) {
      if (this.#link.lostWith) {
        this.#link.state!.cacheUnsent(payload);
        return resolved;
      }
      if (out.queuedBytes > 4 * this.config.maxOutboundBuffer) return this.#gateOverflow();
      return out.enqueue(payload);
    }
    out.write(payload);
    this.#maybeRekey();
    return out.ready();
  }

  /** Bytes waiting to go to the peer: sealed and not yet taken by the byte stream, plus held at the kex gate. */
  get outboundBacklog(): number {
    return this.#out.unflushed + this.#out.queuedBytes;
  }

  /** The kex gate holds more than `4 × maxOutboundBuffer`: the peer provokes more than it lets out. */
  #gateOverflow(): Promise<void> {
    const queued = this.#out.queuedBytes;
    this.#end.fail(new ProtocolError(`Peer provoked ${queued} bytes of messages held during key exchange; limit is ${4 * this.config.maxOutboundBuffer}`));
    return Promise.reject(this.#end.error);
  }

  /**
   * Holds every message sent from now on until the returned function is called (then they go
   * out in order). A server resuming a session holds its side until the client's replay arrived.
   */
  holdOutbound(): () => void {
    const release = this.#out.hold();
    return () => {
      release();
      this.#flushQueue();
    };
  }

  /**
   * Notes §2.3.5, OpenSSH PROTOCOL §2: the new connection of a resumed session is authenticated
   * by the reconnect handshake, not by USERAUTH_SUCCESS. The server sends its reconnect SUCCESS
   * with this: delayed compression starts in both directions right after it is sealed.
   */
  sendStartingCompression(payload: Uint8Array): Promise<void> {
    this.#out.startsCompression(payload);
    return this.send(payload);
  }

  /** Notes §2.3.5: nothing but the reconnect request until the reply (see ReconnectLink.deferEnable). */
  deferReconnectEnable(): () => void {
    return this.#link.deferEnable();
  }

  /** Starts a key re-exchange (RFC 4253 §9); resolves when it completes. */
  rekey(): Promise<void> {
    if (this.#end.info) return Promise.reject(this.#end.error);
    const after = this.#handshake.completed;
    const done = new Promise<void>((resolve, reject) => this.#kexWaiters.push({ after, resolve, reject }));
    this.#handshake.start();
    return done;
  }

  /**
   * Notes §2.3.4: drops the byte stream but keeps the session for a reconnect, when both sides
   * enabled reconnection; otherwise closes with CONNECTION_LOST. `quiet` skips `onDisconnected`.
   */
  disconnect(description = 'Connection lost', quiet = false): void {
    const error = new DisconnectError(DisconnectReason.connectionLost, description);
    if (this.#link.survivable) this.#link.lose(error, quiet);
    else void this.close(DisconnectReason.connectionLost, description);
  }

  /** RFC 4253 §11.1: sends DISCONNECT and ends the transport. */
  async close(reason: number = DisconnectReason.byApplication, description = ''): Promise<void> {
    this.#end.close(reason, description);
  }

  #maybeRekey(): void {
    if (this.#handshake.inProgress || this.#handshake.completed === 0 || this.#keylessKex) return;
    const threshold = this.config.keyRotationThreshold;
    if (this.#out.writer.bytesSinceKeys >= threshold || this.#in.reader.bytesSinceKeys >= threshold) this.#handshake.start();
  }

  /**
   * Kex `none` derives no keys, so there is nothing to rotate; and with no NEWKEYS the byte
   * counters never reset, so a threshold would otherwise start an exchange on every packet.
   */
  get #keylessKex(): boolean {
    return this.algorithms?.kex === 'none';
  }

  #flushQueue(): void {
    if (this.#end.info) return;
    this.#out.flush(
      () => this.#handshake.outboundReady && !this.#end.info,
      () => this.#maybeRekey(),
    );
  }

  #onKexComplete(outcome: KexOutcome): void {
    if (!outcome.initial && !this.isServer && outcome.hostKey && this.hostKey && !outcome.hostKey.equals(this.hostKey)) {
      // A re-key must not swap the server's identity under an authenticated session.
      this.#end.fail(new HostKeyError(`Server host key changed during re-key (${this.hostKey.keyType} to ${outcome.hostKey.keyType})`));
      return;
    }
    this.algorithms = outcome.algorithms;
    if (outcome.hostKey) this.hostKey = outcome.hostKey;
    if (this.#tracer !== undefined) {
      const { algorithms, initial, hostKey } = outcome;
      traceKexCompleted(this.#tracer, { algorithms, initial, hostKey, strictKex: this.#handshake.strict, exchanges: this.#handshake.completed });
    }
    if (outcome.initial) {
      this.hostKeyBlob = outcome.hostKeyBlob;
      this.hostCertificate = outcome.hostCertificate;
    }
    // Kex `none` has no NEWKEYS to follow, so EXT_INFO goes out once the KEXINITs are through.
    if (outcome.initial && this.#keylessKex && this.#handshake.peerWantsExtInfo) this.#out.write(this.#extInfo());
    const interval = this.#keylessKex ? 0 : this.config.keyRotationInterval;
    this.#timers.exchangeCompleted(interval, () => this.#handshake.start());
    this.onKeyExchange(outcome);
    const completed = this.#handshake.completed;
    this.#kexWaiters = this.#kexWaiters.filter((w) => (w.after < completed ? (w.resolve(), false) : true));
    if (outcome.initial) this.#firstKex.resolve();
    this.#flushQueue();
  }

  /** RFC 8308 §2.3: the extensions we announce, sent right after our first NEWKEYS (§2.4). */
  #extInfo(): Uint8Array {
    return encodeExtInfo(ourExtensions(this.config, this.isServer));
  }

  /** RFC 8308 §2.3; notes §2.3.1: the peer's extensions arrived, maybe enabling reconnection. */
  #onExtInfo(payload: Uint8Array): void {
    this.peerExtensions = decodeExtInfo(payload);
    this.#link.extensionsReceived(this.config.protocolExtensions, this.peerExtensions);
    this.onExtInfo(this.peerExtensions);
  }

  #traceKexStart(initiatedBy: 'local' | 'remote'): void {
    const { writer } = this.#out;
    const { reader } = this.#in;
    const since = {
      bytesSent: writer.bytesSinceKeys,
      bytesReceived: reader.bytesSinceKeys,
      packetsSent: writer.packetsSinceKeys,
      packetsReceived: reader.packetsSinceKeys,
    };
    traceKexStarted(this.#tracer!, { initiatedBy, initial: this.#handshake.initial, since });
  }

  /** A peer that never finishes an exchange would hold every outbound message at the kex gate. */
  #armKexTimer(): void {
    if (this.#end.info) return;
    this.#timers.armKexDeadline(this.config.keyExchangeTimeout, (timeout) =>
      this.#end.fail(new ProtocolError(`Key exchange did not complete within ${timeout} ms`, DisconnectReason.keyExchangeFailed)),
    );
  }

  /** RFC 4253 §11, RFC 8308: the transport's own messages. */
  #onTransportMessage(payload: Uint8Array): void {
    if (payload[0] === MessageType.ExtInfo) return this.#onExtInfo(payload);
    if (payload[0] === MessageType.Unimplemented) return this.onUnimplemented(decode(Unimplemented, payload).packetSequenceNumber);
    if (payload[0] === MessageType.Disconnect) this.#end.peerDisconnected(payload);
  }

  /**
   * OpenSSH PROTOCOL §2 (packet.c does the same): `zlib@openssh.com` starts in both directions
   * right after the server sends USERAUTH_SUCCESS, and right after the client receives it. A
   * reconnecting client calls it right after the reconnect SUCCESS arrived.
   */
  startDelayedCompression(): void {
    this.#out.writer.startDelayedCompression();
    this.#in.reader.startDelayedCompression();
  }

  /**
   * How the parts of one transport (reconnect link, outbound, handshake, inbound) reach it: one
   * object whose accessors and methods live on a prototype. Object literals with getters, one per
   * part, cost about 10 µs each to build on Node 20 and sat in dictionary mode (heap) per session.
   */
  static readonly #Host = class implements ReconnectLinkHost, OutboundHost, HandshakeHost, InboundHost {
    readonly isServer: boolean;
    readonly config: SessionConfig;
    readonly hostKeys: readonly MaybeCertifiedKey[];
    readonly strictKex: boolean;
    readonly #t: Transport;

    constructor(transport: Transport) {
      this.#t = transport;
      this.isServer = transport.isServer;
      this.config = transport.config;
      this.hostKeys = transport.hostKeys;
      this.strictKex = transport.config.strictKex;
    }

    get inbound(): Inbound {
      return this.#t.#in;
    }
    get outbound(): Outbound {
      return this.#t.#out;
    }
    get handshake(): Handshake {
      return this.#t.#handshake;
    }
    get ended(): boolean {
      return this.#t.#end.info !== undefined;
    }
    get gateOpen(): boolean {
      return this.#t.#handshake.outboundReady && this.#t.#out.queued === 0;
    }
    get clientVersion(): string {
      return this.#t.clientVersion;
    }
    get serverVersion(): string {
      return this.#t.serverVersion;
    }
    fail(error: unknown): void {
      this.#t.#end.fail(error);
    }
    end(info: SessionCloseInfo): void {
      this.#t.#end.end(info);
    }
    abandonExchanges(error: SshError): void {
      this.#t.#timers.clear();
      for (const waiter of this.#t.#kexWaiters.splice(0)) waiter.reject(error);
    }
    enabled(): void {
      this.#t.onReconnectEnabled();
    }
    disconnected(error: SshError): void {
      this.#t.onDisconnected(error);
    }
    streamFailed(error: unknown): void {
      this.#t.#link.streamFailed(error);
    }
    authenticationSucceeded(): void {
      this.#t.startDelayedCompression();
    }
    survivable(error: unknown): void {
      if (this.#t.#end.info) throw this.#t.#end.info.error ?? error;
    }
    sendKexMessage(payload: Uint8Array): void {
      this.#t.#out.write(payload);
    }
    sendNewKeys(payload: Uint8Array, initial: boolean): void {
      const t = this.#t;
      t.#out.writeTogether(initial && t.#handshake.peerWantsExtInfo ? [payload, t.#extInfo()] : [payload]);
    }
    prepareInbound(opening: OpeningKey, resetSequence: boolean, compression: string): void {
      this.#t.#in.reader.prepareKeys(opening, { resetSequence, compression });
    }
    prepareOutbound(sealing: SealingKey, resetSequence: boolean, compression: string): void {
      this.#t.#out.writer.prepareKeys(sealing, { resetSequence, compression });
    }
    maybeRekey(): void {
      this.#t.#maybeRekey();
    }
    outboundBackpressure(): Promise<void> | undefined {
      const cap = this.#t.config.maxOutboundBuffer;
      return this.#t.#out.unflushed > cap ? this.#t.#out.whenUnflushedBelow(cap / 2) : undefined;
    }
    transportMessage(payload: Uint8Array): void {
      this.#t.#onTransportMessage(payload);
    }
    deliver(payload: Uint8Array, sequence: number): void {
      const t = this.#t;
      if (!t.onMessage(payload)) void t.send(encode(Unimplemented, { packetSequenceNumber: sequence })).catch(() => {});
    }
  };
}
