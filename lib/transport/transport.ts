/**
 * One SSH transport connection over any `{ readable, writable }` byte pair (RFC 4253): version
 * exchange, the fused read loop (packet reader + dispatch, so keys prepared while handling a
 * message are in force for the very next packet), the outbound kex gate, re-key triggers,
 * EXT_INFO (RFC 8308), IGNORE/DEBUG/UNIMPLEMENTED/DISCONNECT. Upper layers see whole messages
 * through `onMessage` and send through `send`, whose promise is the backpressure of the link.
 */
import { DisconnectError, DisconnectReason, HostKeyError, ProtocolError, SshError } from '../errors.js';
import { decode, encode } from '../codec/schema.js';
import { SshReader, SshWriter } from '../codec/wire.js';
import { Disconnect, MessageType, Unimplemented } from '../codec/messages/transport.js';
import type { SessionConfig } from '../config.js';
import type { KeyPair } from '../keys/key-pair.js';
import { cipherAlgorithms, macAlgorithms } from '../cipher/registry.js';
import { PacketReader } from './packet-reader.js';
import { PacketWriter } from './packet-writer.js';
import { identificationLine, readIdentification } from './version.js';
import { Handshake, type KexOutcome } from './handshake.js';
import type { NegotiatedAlgorithms } from '../kex/negotiate.js';

/** The duplex byte stream a session runs over. A Channel is one too. */
export interface Duplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** How and why a session ended. */
export interface SessionCloseInfo {
  /** RFC 4253 §11.1 reason code. */
  readonly reason: number;
  readonly description: string;
  /** The error that ended the session, when it was not a clean close. */
  readonly error?: SshError;
  /** Who ended it. */
  readonly initiatedBy: 'local' | 'remote';
}

/** Options of a Transport. */
export interface TransportOptions {
  isServer: boolean;
  config: SessionConfig;
  hostKeys?: readonly KeyPair[];
}

/** Counters of one transport. */
export interface TransportMetrics {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  keyExchanges: number;
}

const resolved = Promise.resolve();
/** Protocol extensions this library implements and may announce in EXT_INFO. */
const IMPLEMENTED_EXTENSIONS = new Set(['server-sig-algs', 'open-channel-request@microsoft.com']);
/** Bytes of sealed packets allowed to wait for the byte stream before `send` pushes back. */
const SEND_HIGH_WATER_MARK = 256 * 1024;
const TRANSPORT_MAX = MessageType.KexMethodLast;

/** RFC 8308 §2.3 */
function encodeExtInfo(extensions: ReadonlyMap<string, string>): Uint8Array {
  const w = new SshWriter();
  w.byte(MessageType.ExtInfo).uint32(extensions.size);
  for (const [name, value] of extensions) w.string(name).string(value);
  return w.toBytes();
}

/** RFC 8308 §2.3 */
function decodeExtInfo(payload: Uint8Array): Map<string, string> {
  const r = new SshReader(payload, 1);
  r.context = 'ExtInfo';
  const count = r.uint32();
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) out.set(r.utf8(), new TextDecoder().decode(r.string()));
  r.end();
  return out;
}

/** A transport connection: the layer every session sits on. */
export class Transport {
  readonly isServer: boolean;
  readonly config: SessionConfig;
  readonly hostKeys: readonly KeyPair[];
  #reader: PacketReader;
  #writer: PacketWriter;
  #handshake: Handshake;
  #byteWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #byteReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #queue: { payload: Uint8Array; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Bytes written to the byte stream whose write has not completed. */
  #unflushed = 0;
  #drainWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #closeInfo: SessionCloseInfo | undefined;
  #closedResolve!: (info: SessionCloseInfo) => void;
  #closedReject!: (error: unknown) => void;
  #firstKex: { resolve: () => void; reject: (e: unknown) => void; promise: Promise<void> };
  #rekeyTimer: ReturnType<typeof setTimeout> | undefined;
  #kexTimer: ReturnType<typeof setTimeout> | undefined;
  /** Callers of rekey(), resolved once an exchange completes after the count they saw. */
  #kexWaiters: { after: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Server: USERAUTH_SUCCESS not yet sent, so each outbound packet is checked for it. */
  #awaitingAuthenticationSuccess: boolean;
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

  constructor(options: TransportOptions) {
    this.isServer = options.isServer;
    this.config = options.config;
    this.hostKeys = options.hostKeys ?? [];
    this.#awaitingAuthenticationSuccess = this.isServer;
    const none = cipherAlgorithms.get('none')!;
    const macNone = macAlgorithms.get('none');
    const empty = { iv: new Uint8Array(0), encryptionKey: new Uint8Array(0), integrityKey: new Uint8Array(0) };
    this.#reader = new PacketReader({ opening: none.opening(empty, macNone), maxPacketLength: this.config.maxPacketLength });
    this.#writer = new PacketWriter({ sealing: none.sealing(empty, macNone), randomBytes: this.config.randomBytes });
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
      sendKexMessage: (payload) => this.#writePacket(payload),
      prepareInbound: (opening, reset, compression) =>
        this.#reader.prepareKeys(opening, { resetSequence: reset, compression }),
      prepareOutbound: (sealing, reset, compression) =>
        this.#writer.prepareKeys(sealing, { resetSequence: reset, compression }),
    });
    this.#handshake.onComplete = (outcome) => this.#onKexComplete(outcome);
    this.#handshake.onStart = () => this.#armKexTimer();
    this.closed = new Promise<SessionCloseInfo>((resolve, reject) => {
      this.#closedResolve = resolve;
      this.#closedReject = reject;
    });
    // A rejected `closed` must never become an unhandled rejection that kills the process.
    this.closed.catch(() => {});
    let resolveFirst!: () => void;
    let rejectFirst!: (e: unknown) => void;
    const firstPromise = new Promise<void>((res, rej) => {
      resolveFirst = res;
      rejectFirst = rej;
    });
    firstPromise.catch(() => {});
    this.#firstKex = { resolve: resolveFirst, reject: rejectFirst, promise: firstPromise };
  }

  /** H of the first exchange (RFC 4253 §7.2). */
  get sessionId(): Uint8Array | undefined {
    return this.#handshake.sessionId;
  }

  /** True between a successful connect and the end of the transport. */
  get isConnected(): boolean {
    return this.#byteWriter !== undefined && this.#closeInfo === undefined && this.#handshake.completed > 0;
  }

  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** Integrity keys of the latest exchange (session reconnection tokens use them). */
  get integrityKeys(): { clientToServer: Uint8Array; serverToClient: Uint8Array } | undefined {
    return this.#handshake.integrityKeys;
  }

  get metrics(): TransportMetrics {
    return {
      bytesSent: this.#writer.totalBytes,
      bytesReceived: this.#reader.totalBytes,
      packetsSent: this.#writer.totalPackets,
      packetsReceived: this.#reader.totalPackets,
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
    if (this.#byteWriter) throw new SshError('Transport is already connected');
    const { signal } = options;
    signal?.throwIfAborted();
    this.#byteWriter = duplex.writable.getWriter();
    this.#byteReader = duplex.readable.getReader();
    const onAbort = (): void => this.#fail(new SshError('Connect aborted', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const ours = identificationLine();
      const ourVersion = new TextDecoder().decode(ours.subarray(0, ours.length - 2));
      if (this.isServer) this.serverVersion = ourVersion;
      else this.clientVersion = ourVersion;
      this.#byteWriter.write(ours).catch((e) => this.#fail(e));
      this.#handshake.start();
      const peer = await readIdentification(this.#byteReader, !this.isServer);
      if (this.isServer) this.clientVersion = peer.version;
      else this.serverVersion = peer.version;
      this.#reader.push(peer.rest);
      void this.#readLoop();
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
    if (!this.#handshake.outboundReady || this.#queue.length > 0 || !this.#byteWriter) {
      return new Promise((resolve, reject) => this.#queue.push({ payload, resolve, reject }));
    }
    this.#writePacket(payload);
    this.#maybeRekey();
    return this.#ready();
  }

  /** Starts a key re-exchange (RFC 4253 §9); resolves when it completes. */
  rekey(): Promise<void> {
    if (this.#closeInfo) return Promise.reject(this.#closeInfo.error ?? new SshError('Session is closed'));
    const after = this.#handshake.completed;
    const done = new Promise<void>((resolve, reject) => this.#kexWaiters.push({ after, resolve, reject }));
    this.#handshake.start();
    return done;
  }

  /** RFC 4253 §11.1: sends DISCONNECT and ends the transport. */
  async close(reason: number = DisconnectReason.byApplication, description = ''): Promise<void> {
    if (this.#closeInfo) return;
    this.#sendDisconnect(reason, description);
    const error = reason === DisconnectReason.byApplication ? undefined : new DisconnectError(reason, description);
    await this.#end({ reason, description, error, initiatedBy: 'local' });
  }

  /**
   * Resolves while fewer than SEND_HIGH_WATER_MARK bytes wait for the byte stream, counted here
   * because streams that count chunks (Node's Duplex.toWeb counts 16384 of them) never push back.
   */
  #ready(): Promise<void> {
    const w = this.#byteWriter!;
    if (this.#unflushed < SEND_HIGH_WATER_MARK) return w.desiredSize !== null && w.desiredSize > 0 ? resolved : w.ready;
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  #writePacket(payload: Uint8Array): void {
    // Read before sealing: a payload from `allocatePayload` is encrypted where it lies.
    const isAuthenticationSuccess = this.#awaitingAuthenticationSuccess && payload[0] === MessageType.UserauthSuccess;
    const wire = this.#writer.write(payload);
    if (isAuthenticationSuccess) {
      this.#awaitingAuthenticationSuccess = false;
      this.#startDelayedCompression();
    }
    const n = wire.length;
    this.#unflushed += n;
    this.#byteWriter!.write(wire).then(
      () => this.#flushed(n),
      (e) => this.#fail(e),
    );
  }

  #flushed(n: number): void {
    this.#unflushed -= n;
    if (this.#unflushed >= SEND_HIGH_WATER_MARK || this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  }

  #maybeRekey(): void {
    if (this.#handshake.inProgress || this.#handshake.completed === 0 || this.#keylessKex) return;
    const threshold = this.config.keyRotationThreshold;
    if (this.#writer.bytesSinceKeys >= threshold || this.#reader.bytesSinceKeys >= threshold) this.#handshake.start();
  }

  /**
   * Kex `none` derives no keys, so there is nothing to rotate; and with no NEWKEYS the byte
   * counters never reset, so a threshold would otherwise start an exchange on every packet.
   */
  get #keylessKex(): boolean {
    return this.algorithms?.kex === 'none';
  }

  #flushQueue(): void {
    while (this.#queue.length > 0 && this.#handshake.outboundReady && !this.#closeInfo) {
      const item = this.#queue.shift()!;
      this.#writePacket(item.payload);
      this.#ready().then(item.resolve, item.reject);
      this.#maybeRekey();
    }
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
    clearTimeout(this.#kexTimer);
    this.#scheduleTimedRekey();
    this.onKeyExchange(outcome);
    const completed = this.#handshake.completed;
    this.#kexWaiters = this.#kexWaiters.filter((w) => (w.after < completed ? (w.resolve(), false) : true));
    if (outcome.initial) this.#firstKex.resolve();
    this.#flushQueue();
  }

  /** RFC 8308 §2.4: announce our extensions right after the first NEWKEYS. */
  #sendExtInfo(): void {
    const extensions = new Map<string, string>();
    for (const name of this.config.protocolExtensions) {
      // Announcing an extension we do not implement would make the peer switch its wire format
      // (the reconnect extension adds a trailer to every packet).
      if (!IMPLEMENTED_EXTENSIONS.has(name)) continue;
      if (name === 'server-sig-algs') {
        if (this.isServer) extensions.set(name, this.config.publicKeyAlgorithms.join(','));
      } else {
        extensions.set(name, '');
      }
    }
    if (this.isServer) extensions.set('publickey-hostbound@openssh.com', '0');
    this.#writePacket(encodeExtInfo(extensions));
  }

  /** A peer that never finishes an exchange would hold every outbound message at the kex gate. */
  #armKexTimer(): void {
    clearTimeout(this.#kexTimer);
    const timeout = this.config.keyExchangeTimeout;
    if (timeout <= 0 || this.#closeInfo) return;
    this.#kexTimer = setTimeout(
      () => this.#fail(new ProtocolError(`Key exchange did not complete within ${timeout} ms`, DisconnectReason.keyExchangeFailed)),
      timeout,
    );
    this.#kexTimer.unref?.();
  }

  #scheduleTimedRekey(): void {
    clearTimeout(this.#rekeyTimer);
    const interval = this.config.keyRotationInterval;
    if (interval > 0 && !this.#closeInfo && !this.#keylessKex) {
      this.#rekeyTimer = setTimeout(() => this.#handshake.start(), interval);
      this.#rekeyTimer.unref?.();
    }
  }

  async #readLoop(): Promise<void> {
    const reader = this.#byteReader!;
    try {
      // Bytes that arrived with the identification line may already hold whole packets.
      for (let first = true; ; first = false) {
        if (!first) {
          const { value, done } = await reader.read();
          if (this.#closeInfo) return;
          if (done) {
            this.#reader.assertDrained();
            throw new DisconnectError(DisconnectReason.connectionLost, 'Connection closed by peer');
          }
          this.#reader.push(value);
        }
        let payload: Uint8Array | undefined;
        while (!this.#closeInfo && (payload = this.#reader.next()) !== undefined) this.#dispatch(payload);
        if (this.#reader.awaitingKeys && !this.#closeInfo) throw new ProtocolError('NEWKEYS received without a key exchange');
        if (!this.#handshake.inProgress) this.#maybeRekey();
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  #dispatch(payload: Uint8Array): void {
    const type = payload[0]!;
    const handshake = this.#handshake;
    if (handshake.initial && type !== MessageType.Disconnect && (type < MessageType.KexInit || type > TRANSPORT_MAX)) {
      // OpenSSH PROTOCOL §1.10: under strict kex anything else during the first exchange is fatal.
      if (handshake.strict) throw new ProtocolError(`Unexpected message ${type} during strict initial key exchange`);
    }
    if (type >= MessageType.KexInit && type <= TRANSPORT_MAX) {
      if (type === MessageType.KexInit && handshake.initial && this.#reader.totalPackets !== 1 && this.#peerStrict(payload)) {
        throw new ProtocolError('Strict key exchange requires KEXINIT to be the first packet');
      }
      handshake.handleMessage(payload);
      return;
    }
    switch (type) {
      case MessageType.Disconnect: {
        const d = decode(Disconnect, payload);
        const error = new DisconnectError(d.reasonCode, d.description);
        void this.#end({
          reason: d.reasonCode,
          description: d.description,
          error: d.reasonCode === DisconnectReason.byApplication ? undefined : error,
          initiatedBy: 'remote',
        });
        return;
      }
      case MessageType.Ignore:
      case MessageType.Debug:
      case MessageType.Unimplemented:
        return;
      case MessageType.UserauthSuccess:
        if (!this.isServer && !handshake.initial) this.#startDelayedCompression();
        break;
    }
    if (handshake.initial) throw new ProtocolError(`Unexpected message ${type} before the first key exchange completed`);
    if (handshake.peerInKex) throw new ProtocolError(`Unexpected message ${type} during key exchange`);
    if (type === MessageType.ExtInfo) {
      this.peerExtensions = decodeExtInfo(payload);
      this.onExtInfo(this.peerExtensions);
      return;
    }
    if (!this.onMessage(payload)) {
      const sequence = (this.#reader.sequence - 1) >>> 0;
      this.#writeOrQueue(encode(Unimplemented, { packetSequenceNumber: sequence }));
    }
  }

  /**
   * OpenSSH PROTOCOL §2 (packet.c does the same): `zlib@openssh.com` starts in both directions
   * right after the server sends USERAUTH_SUCCESS, and right after the client receives it.
   */
  #startDelayedCompression(): void {
    this.#writer.startDelayedCompression();
    this.#reader.startDelayedCompression();
  }

  /** Whether a KEXINIT announces the peer's strict-kex marker (checked before negotiation). */
  #peerStrict(payload: Uint8Array): boolean {
    if (!this.config.strictKex) return false;
    const marker = this.isServer ? 'kex-strict-c-v00@openssh.com' : 'kex-strict-s-v00@openssh.com';
    return new TextDecoder().decode(payload).includes(marker);
  }

  #writeOrQueue(payload: Uint8Array): void {
    void this.send(payload).catch(() => {});
  }

  #sendDisconnect(reason: number, description: string): void {
    if (!this.#byteWriter || this.#closeInfo) return;
    try {
      this.#writePacket(encode(Disconnect, { reasonCode: reason, description, languageTag: '' }));
    } catch {
      // The link may already be gone; the close proceeds regardless.
    }
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

  /**
   * Lets queued bytes (our DISCONNECT) drain before the reader is cancelled: cancelling a
   * socket's readable destroys the socket. Closing can wait on the peer, so it is bounded.
   */
  #release(error: Error): void {
    const writer = this.#byteWriter;
    const reader = this.#byteReader;
    const cancel = (): void => void reader?.cancel(error).catch(() => {});
    if (!writer) return cancel();
    const timer = setTimeout(() => {
      writer.abort(error).catch(() => {});
      cancel();
    }, 2000);
    timer.unref?.();
    writer.close().then(
      () => {
        clearTimeout(timer);
        cancel();
      },
      () => {
        clearTimeout(timer);
        cancel();
      },
    );
  }

  async #end(info: SessionCloseInfo): Promise<void> {
    if (this.#closeInfo) return;
    this.#closeInfo = info;
    clearTimeout(this.#rekeyTimer);
    clearTimeout(this.#kexTimer);
    const error = info.error ?? new SshError(`Session closed${info.description ? `: ${info.description}` : ''}`);
    for (const item of this.#queue.splice(0)) item.reject(error);
    for (const waiter of this.#drainWaiters.splice(0)) waiter.reject(error);
    for (const waiter of this.#kexWaiters.splice(0)) waiter.reject(error);
    this.#firstKex.reject(error);
    try {
      this.onClose(info);
    } catch {
      // Upper layers must not prevent the transport from closing.
    }
    this.#reader.destroy();
    this.#writer.destroy();
    this.#release(error);
    if (info.error) this.#closedReject(info.error);
    else this.#closedResolve(info);
  }
}
