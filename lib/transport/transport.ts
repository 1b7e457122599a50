/**
 * One SSH transport connection over any `{ readable, writable }` byte pair (RFC 4253): version
 * exchange, the fused read loop (packet reader + dispatch, so keys prepared while handling a
 * message are in force for the very next packet), the outbound kex gate, re-key triggers,
 * EXT_INFO (RFC 8308), IGNORE/DEBUG/UNIMPLEMENTED/DISCONNECT. Upper layers see whole messages
 * through `onMessage` and send through `send`, whose promise is the backpressure of the link.
 */
import { DisconnectError, DisconnectReason, HostKeyError, ProtocolError, SshError } from '../errors.js';
import { decode, encode } from '../codec/schema.js';
import { Disconnect, MessageType, Unimplemented } from '../codec/messages/transport.js';
import type { SessionConfig } from '../config.js';
import type { KeyPair } from '../keys/key-pair.js';
import { ProtocolExtensions } from '../algorithms.js';
import { cipherAlgorithms, macAlgorithms } from '../cipher/registry.js';
import { PacketReader } from './packet-reader.js';
import { PacketWriter } from './packet-writer.js';
import { Outbound } from './outbound.js';
import { Inbound } from './inbound.js';
import { releaseByteStream } from './byte-stream.js';
import { RekeySchedule } from './rekey-schedule.js';
import { identificationLine, readIdentification } from './version.js';
import { Handshake, type KexOutcome } from './handshake.js';
import { decodeExtInfo, encodeExtInfo, ourExtensions } from './ext-info.js';
import { ReconnectState } from './reconnect/reconnect-state.js';
import { encodeEnableReconnect } from './reconnect/messages.js';
import type { Duplex, SessionCloseInfo, TransportMetrics, TransportOptions } from './transport-types.js';
import type { NegotiatedAlgorithms } from '../kex/negotiate.js';

export type { Duplex, SessionCloseInfo, TransportMetrics, TransportOptions } from './transport-types.js';

const resolved = Promise.resolve();

/** A transport connection: the layer every session sits on. */
export class Transport {
  readonly isServer: boolean;
  readonly config: SessionConfig;
  readonly hostKeys: readonly KeyPair[];
  readonly #in: Inbound;
  readonly #out: Outbound;
  #handshake: Handshake;
  #closeInfo: SessionCloseInfo | undefined;
  #closedResolve!: (info: SessionCloseInfo) => void;
  #closedReject!: (error: unknown) => void;
  #firstKex: { resolve: () => void; reject: (e: unknown) => void; promise: Promise<void> };
  readonly #timers = new RekeySchedule();
  /** Callers of rekey(), resolved once an exchange completes after the count they saw. */
  #kexWaiters: { after: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Session reconnection bookkeeping, when configured: the one check the data path pays per packet. */
  readonly #reconnect: ReconnectState | undefined;
  /** Set while the byte stream is lost but the session may reconnect (notes §2.3.4). */
  #lostWith: SshError | undefined;
  clientVersion = '';
  serverVersion = '';
  /** What was negotiated in the latest exchange. */
  algorithms: NegotiatedAlgorithms | undefined;
  /** The server's host key (client: as received; server: the one that signed). */
  hostKey: KeyPair | undefined;
  /** Extensions the peer announced in EXT_INFO (RFC 8308), once received. */
  peerExtensions: Map<string, string> | undefined;
  /** Settles once when the transport ends: resolves on a clean close, rejects with the error otherwise. */
  readonly closed: Promise<SessionCloseInfo>;
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
  /** Called when the byte stream was lost and the session waits for a reconnect instead of closing. */
  onDisconnected: (error: SshError) => void = () => {};

  constructor(options: TransportOptions) {
    this.isServer = options.isServer;
    this.config = options.config;
    this.hostKeys = options.hostKeys ?? [];
    if (this.config.protocolExtensions.includes(ProtocolExtensions.sessionReconnect)) {
      this.#reconnect = new ReconnectState({ maxCacheSize: this.config.maxReconnectMessageCacheSize, now: this.config.now });
    }
    const none = cipherAlgorithms.get('none')!;
    const macNone = macAlgorithms.get('none');
    const empty = { iv: new Uint8Array(0), encryptionKey: new Uint8Array(0), integrityKey: new Uint8Array(0) };
    const reader = new PacketReader({ opening: none.opening(empty, macNone), maxPacketLength: this.config.maxPacketLength });
    const writer = new PacketWriter({ sealing: none.sealing(empty, macNone), randomBytes: this.config.randomBytes });
    this.#out = new Outbound(writer, {
      isServer: this.isServer,
      reconnect: this.#reconnect,
      host: {
        streamFailed: (e) => this.#streamFailed(e),
        authenticationSucceeded: () => this.#startDelayedCompression(),
        survivable: (e) => {
          if (this.#closeInfo) throw this.#closeInfo.error ?? e;
        },
      },
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const transport = this;
    this.#handshake = new Handshake({
      isServer: this.isServer,
      config: this.config,
      hostKeys: this.hostKeys,
      get clientVersion() {
        return transport.clientVersion;
      },
      get serverVersion() {
        return transport.serverVersion;
      },
      sendKexMessage: (payload) => this.#out.write(payload),
      prepareInbound: (opening, reset, compression) =>
        reader.prepareKeys(opening, { resetSequence: reset, compression }),
      prepareOutbound: (sealing, reset, compression) =>
        writer.prepareKeys(sealing, { resetSequence: reset, compression }),
    });
    this.#in = new Inbound(reader, {
      reconnect: this.#reconnect,
      host: {
        isServer: this.isServer,
        strictKex: this.config.strictKex,
        handshake: this.#handshake,
        get ended() {
          return transport.#closeInfo !== undefined;
        },
        streamFailed: (e) => this.#streamFailed(e),
        fail: (e) => this.#fail(e),
        maybeRekey: () => this.#maybeRekey(),
        transportMessage: (payload) => this.#onTransportMessage(payload),
        authenticationSucceeded: () => this.#startDelayedCompression(),
        deliver: (payload, sequence) => {
          if (!this.onMessage(payload)) void this.send(encode(Unimplemented, { packetSequenceNumber: sequence })).catch(() => {});
        },
      },
    });
    this.#handshake.onComplete = (outcome) => this.#onKexComplete(outcome);
    this.#handshake.onStart = () => this.#armKexTimer();
    this.closed = new Promise<SessionCloseInfo>((resolve, reject) => {
      this.#closedResolve = resolve;
      this.#closedReject = reject;
    });
    // A rejected `closed` must never become an unhandled rejection that kills the process.
    this.closed.catch(() => {});
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    promise.catch(() => {});
    this.#firstKex = { ...settle, promise };
  }

  /** H of the first exchange (RFC 4253 §7.2). */
  get sessionId(): Uint8Array | undefined {
    return this.#handshake.sessionId;
  }

  /** True between a successful connect and the end of the transport. */
  get isConnected(): boolean {
    return this.#out.attached && this.#closeInfo === undefined && this.#handshake.completed > 0;
  }

  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** True while the byte stream is lost and the session waits for a reconnect (notes §2.3.4). */
  get isDisconnected(): boolean {
    return this.#lostWith !== undefined && this.#closeInfo === undefined;
  }

  /** Session reconnection state of this connection (sequence counters, send cache, latency), when configured. */
  get reconnect(): ReconnectState | undefined {
    return this.#reconnect;
  }

  /**
   * Notes §2.3.5: this connection replaces a lost one of the same session: later re-keys derive
   * keys with the original session id, and what is sent from now on is kept for replay.
   */
  resumeSession(sessionId: Uint8Array): void {
    this.#handshake.sessionId = sessionId;
    this.#reconnect?.resume();
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
  async connect(duplex: Duplex, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#out.attached || this.#in.attached) throw new SshError('Transport is already connected');
    const { signal } = options;
    signal?.throwIfAborted();
    this.#out.attach(duplex.writable.getWriter());
    const byteReader = duplex.readable.getReader();
    const onAbort = (): void => this.#fail(new SshError('Connect aborted', { cause: signal?.reason }));
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
      this.#in.start(byteReader, peer.rest);
      await this.#firstKex.promise;
    } catch (error) {
      this.#fail(error);
      throw this.#closeInfo?.error ?? error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Queues one message. Order of calls is order on the wire. During a key exchange non-kex
   * messages wait (RFC 4253 §7.1); the promise resolves when the link can take more.
   */
  send(payload: Uint8Array): Promise<void> {
    if (this.#closeInfo) return Promise.reject(this.#closeInfo.error ?? new SshError('Session is closed'));
    const out = this.#out;
    if (!this.#handshake.outboundReady || out.queued > 0 || !out.attached) {
      if (this.#lostWith) {
        this.#reconnect!.cacheUnsent(payload);
        return resolved;
      }
      return out.enqueue(payload);
    }
    out.write(payload);
    this.#maybeRekey();
    return out.ready();
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

  /** Starts a key re-exchange (RFC 4253 §9); resolves when it completes. */
  rekey(): Promise<void> {
    if (this.#closeInfo) return Promise.reject(this.#closeInfo.error ?? new SshError('Session is closed'));
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
    if (this.#reconnect?.negotiated) this.#loseStream(error, quiet);
    else void this.close(DisconnectReason.connectionLost, description);
  }

  /** RFC 4253 §11.1: sends DISCONNECT and ends the transport. */
  async close(reason: number = DisconnectReason.byApplication, description = ''): Promise<void> {
    if (this.#closeInfo) return;
    this.#sendDisconnect(reason, description);
    const error = reason === DisconnectReason.byApplication ? undefined : new DisconnectError(reason, description);
    await this.#end({ reason, description, error, initiatedBy: 'local' });
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
    if (this.#closeInfo) return;
    this.#out.flush(
      () => this.#handshake.outboundReady && !this.#closeInfo,
      () => this.#maybeRekey(),
    );
  }

  #onKexComplete(outcome: KexOutcome): void {
    if (!outcome.initial && !this.isServer && outcome.hostKey && this.hostKey && !outcome.hostKey.equals(this.hostKey)) {
      // A re-key must not swap the server's identity under an authenticated session.
      this.#fail(new HostKeyError(`Server host key changed during re-key (${this.hostKey.keyType} to ${outcome.hostKey.keyType})`));
      return;
    }
    this.algorithms = outcome.algorithms;
    if (outcome.hostKey) this.hostKey = outcome.hostKey;
    if (outcome.initial && this.#handshake.peerWantsExtInfo) this.#sendExtInfo();
    const interval = this.#keylessKex ? 0 : this.config.keyRotationInterval;
    this.#timers.exchangeCompleted(interval, () => this.#handshake.start());
    this.onKeyExchange(outcome);
    const completed = this.#handshake.completed;
    this.#kexWaiters = this.#kexWaiters.filter((w) => (w.after < completed ? (w.resolve(), false) : true));
    if (outcome.initial) this.#firstKex.resolve();
    this.#flushQueue();
  }

  /** RFC 8308 §2.4: announce our extensions right after the first NEWKEYS. */
  #sendExtInfo(): void {
    this.#out.write(encodeExtInfo(ourExtensions(this.config, this.isServer)));
  }

  /** RFC 8308 §2.3; notes §2.3.1: the peer's extensions arrived, maybe enabling reconnection. */
  #onExtInfo(payload: Uint8Array): void {
    this.peerExtensions = decodeExtInfo(payload);
    const reconnect = this.#reconnect;
    // Like the reference, reconnection stays off if a re-key already closed the outbound gate.
    if (reconnect?.negotiate(this.config.protocolExtensions, this.peerExtensions) && this.#handshake.outboundReady && this.#out.queued === 0) {
      // The enable request itself goes without trailer; every packet after it has one.
      this.#out.write(encodeEnableReconnect());
      reconnect.enableOutgoing();
      this.onReconnectEnabled();
    } else if (reconnect) {
      reconnect.negotiated = false;
    }
    this.onExtInfo(this.peerExtensions);
  }

  /** A peer that never finishes an exchange would hold every outbound message at the kex gate. */
  #armKexTimer(): void {
    if (this.#closeInfo) return;
    this.#timers.armKexDeadline(this.config.keyExchangeTimeout, (timeout) =>
      this.#fail(new ProtocolError(`Key exchange did not complete within ${timeout} ms`, DisconnectReason.keyExchangeFailed)),
    );
  }

  /** RFC 4253 §11, RFC 8308: the transport's own messages. */
  #onTransportMessage(payload: Uint8Array): void {
    if (payload[0] === MessageType.ExtInfo) return this.#onExtInfo(payload);
    if (payload[0] !== MessageType.Disconnect) return;
    const d = decode(Disconnect, payload);
    void this.#end({
      reason: d.reasonCode,
      description: d.description,
      error: d.reasonCode === DisconnectReason.byApplication ? undefined : new DisconnectError(d.reasonCode, d.description),
      initiatedBy: 'remote',
    });
  }

  /**
   * OpenSSH PROTOCOL §2 (packet.c does the same): `zlib@openssh.com` starts in both directions
   * right after the server sends USERAUTH_SUCCESS, and right after the client receives it.
   */
  #startDelayedCompression(): void {
    this.#out.writer.startDelayedCompression();
    this.#in.reader.startDelayedCompression();
  }

  #sendDisconnect(reason: number, description: string): void {
    if (!this.#out.attached || this.#closeInfo) return;
    try {
      this.#out.write(encode(Disconnect, { reasonCode: reason, description, languageTag: '' }));
    } catch {
      // The link may already be gone; the close proceeds regardless.
    }
  }

  /** The byte stream failed or ended: a disconnection when reconnection is on, else the end. */
  #streamFailed(error: unknown): void {
    if (this.#closeInfo || this.#lostWith) return;
    const message = (error as Error)?.message ?? String(error);
    const lost = new DisconnectError(DisconnectReason.connectionLost, message, { cause: error });
    if (this.#reconnect?.negotiated) this.#loseStream(lost, false);
    else this.#fail(lost);
  }

  /**
   * Notes §2.3.4: the session outlives the stream. Messages waiting at the kex gate take their
   * sequence numbers and wait in the send cache, as everything sent until a reconnect will.
   */
  #loseStream(error: SshError, quiet: boolean): void {
    if (this.#closeInfo || this.#lostWith) return;
    this.#lostWith = error;
    this.#timers.clear();
    const writer = this.#out.detach();
    const reader = this.#in.detach();
    this.#out.releaseAll((payload) => this.#reconnect!.cacheUnsent(payload));
    for (const waiter of this.#kexWaiters.splice(0)) waiter.reject(error);
    this.#reconnect!.latency.disconnected();
    writer?.abort(error).catch(() => {});
    reader?.cancel(error).catch(() => {});
    this.#in.reader.destroy();
    this.#out.writer.destroy();
    if (!quiet) this.onDisconnected(error);
  }

  /** Ends the transport because of `error`, sending DISCONNECT when we detected a protocol violation. */
  #fail(error: unknown): void {
    if (this.#closeInfo) return;
    let sshError: SshError;
    if (error instanceof SshError) sshError = error;
    else sshError = new DisconnectError(DisconnectReason.connectionLost, (error as Error)?.message ?? String(error), { cause: error });
    const reason = sshError instanceof ProtocolError ? sshError.reason : sshError instanceof DisconnectError ? sshError.reason : DisconnectReason.connectionLost;
    if (sshError instanceof ProtocolError) this.#sendDisconnect(reason, sshError.message);
    void this.#end({ reason, description: sshError.message, error: sshError, initiatedBy: sshError instanceof ProtocolError ? 'local' : 'remote' });
  }

  async #end(info: SessionCloseInfo): Promise<void> {
    if (this.#closeInfo) return;
    this.#closeInfo = info;
    this.#timers.clear();
    const error = info.error ?? new SshError(`Session closed${info.description ? `: ${info.description}` : ''}`);
    this.#out.failAll(error);
    for (const waiter of this.#kexWaiters.splice(0)) waiter.reject(error);
    this.#firstKex.reject(error);
    try {
      this.onClose(info);
    } catch {
      // Upper layers must not prevent the transport from closing.
    }
    this.#in.reader.destroy();
    this.#out.writer.destroy();
    releaseByteStream(this.#out.detach(), this.#in.detach(), error);
    if (info.error) this.#closedReject(info.error);
    else this.#closedResolve(info);
  }
}
