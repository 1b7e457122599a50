/**
 * The key exchange driver (RFC 4253 §7-9, RFC 8308 §2.1, OpenSSH PROTOCOL §1.10 strict kex): sends
 * and reads KEXINIT, runs the negotiated single-round-trip method (messages 30/31), verifies the
 * host key signature, derives keys and *prepares* them in the packet stages, which switch at
 * NEWKEYS. It never touches bytes on the wire itself; the Transport routes messages 20-49 here.
 */
import { DisconnectReason, HostKeyError, ProtocolError } from '../errors.js';
import { decode, encode, message, mpint, string } from '../codec/schema.js';
import { SshWriter } from '../codec/wire.js';
import { KexInit, MessageType, NewKeys } from '../codec/messages/transport.js';
import type { SessionConfig } from '../config.js';
import { KeyPair } from '../keys/key-pair.js';
import { Certificate } from '../keys/certificate.js';
import { algorithmsOf, isCertificateAlgorithm, keyOf, signingAlgorithmOf, wireBlobOf, type MaybeCertifiedKey } from '../keys/certified-key.js';
import type { OpeningKey, SealingKey } from '../cipher/types.js';
import { cipherAlgorithms, macAlgorithms } from '../cipher/registry.js';
import { kexMethods } from '../kex/registry.js';
import type { KexEphemeral } from '../kex/types.js';
import { computeExchangeHash } from '../kex/exchange-hash.js';
import { kexBackend, type KexHashName } from '../kex/backend.js';
import { deriveKeys } from '../kex/kdf.js';
import { isGuessWrong, negotiateAlgorithms, type NegotiatedAlgorithms } from '../kex/negotiate.js';

/** OpenSSH PROTOCOL §1.10 and RFC 8308 §2.1 pseudo-algorithm markers. */
export const KexMarkers = {
  extInfoClient: 'ext-info-c',
  extInfoServer: 'ext-info-s',
  strictClient: 'kex-strict-c-v00@openssh.com',
  strictServer: 'kex-strict-s-v00@openssh.com',
} as const;

/** RFC 4253 §8, RFC 5656 §4: KEXDH_INIT / KEX_ECDH_INIT with the public value as a string. */
const KexInitString = message(30, 'KexEcdhInit', { clientPublic: string });
/** RFC 4253 §8: KEXDH_INIT with e as an mpint. */
const KexInitMpint = message(30, 'KexdhInit', { clientPublic: mpint });
/** RFC 5656 §4: KEX_ECDH_REPLY. */
const KexReplyString = message(31, 'KexEcdhReply', { hostKey: string, serverPublic: string, signature: string });
/** RFC 4253 §8: KEXDH_REPLY. */
const KexReplyMpint = message(31, 'KexdhReply', { hostKey: string, serverPublic: mpint, signature: string });

/** What the driver needs from the transport that hosts it. */
export interface HandshakeHost {
  readonly isServer: boolean;
  readonly config: SessionConfig;
  readonly hostKeys: readonly MaybeCertifiedKey[];
  readonly clientVersion: string;
  readonly serverVersion: string;
  /** Writes a transport/kex message now, bypassing the kex gate. */
  sendKexMessage(payload: Uint8Array): void;
  /**
   * Writes our NEWKEYS now; after the first one, RFC 8308 §2.4 wants EXT_INFO as the very next
   * packet, so the host sends it in the same write.
   */
  sendNewKeys(payload: Uint8Array, initial: boolean): void;
  /** Keys for the next inbound NEWKEYS, with the sequence reset rule and compression name. */
  prepareInbound(opening: OpeningKey, resetSequence: boolean, compression: string): void;
  /** Keys for the next outbound NEWKEYS, with the sequence reset rule and compression name. */
  prepareOutbound(sealing: SealingKey, resetSequence: boolean, compression: string): void;
}

/** The result of one completed exchange. */
export interface KexOutcome {
  readonly algorithms: NegotiatedAlgorithms;
  readonly exchangeHash: Uint8Array;
  readonly hostKey: KeyPair | undefined;
  /** The host key blob as sent in the exchange (a certificate when the server offered one). */
  readonly hostKeyBlob: Uint8Array | undefined;
  /** The server's host certificate, decoded but not yet checked (client side). */
  readonly hostCertificate: Certificate | undefined;
  readonly initial: boolean;
}

type Phase = 'idle' | 'awaitingKexInit' | 'awaitingKexReply' | 'awaitingKexInitMessage' | 'signing' | 'awaitingNewKeys';

/** Drives (re)keying for one transport connection. */
export class Handshake {
  readonly #host: HandshakeHost;
  #phase: Phase = 'idle';
  #ourKexInit: Uint8Array | undefined;
  #peerKexInit: Uint8Array | undefined;
  #algorithms: NegotiatedAlgorithms | undefined;
  #ephemeral: KexEphemeral | undefined;
  #clientPublicValue: Uint8Array | undefined;
  #ignoreNextKexPacket = false;
  #newKeysSent = false;
  #newKeysReceived = false;
  #exchangeHash: Uint8Array | undefined;
  #hostKey: KeyPair | undefined;
  #hostKeyBlob: Uint8Array | undefined;
  #hostCertificate: Certificate | undefined;
  /** Session identifier: H of the first exchange (RFC 4253 §7.2). */
  sessionId: Uint8Array | undefined;
  /** True once both sides announced strict kex in the first exchange. */
  strict = false;
  /** Number of completed exchanges. */
  completed = 0;
  /** Peer announced ext-info in its first KEXINIT (RFC 8308 §2.1). */
  peerWantsExtInfo = false;
  /** Called when both NEWKEYS have passed. */
  onComplete: (outcome: KexOutcome) => void = () => {};
  /** Called when an exchange begins (our KEXINIT goes out); `remote` when the peer's KEXINIT started it. */
  onStart: (initiatedBy: 'local' | 'remote') => void = () => {};

  constructor(host: HandshakeHost) {
    this.#host = host;
  }

  /** True from our KEXINIT until both NEWKEYS: outbound non-kex traffic must wait. */
  get inProgress(): boolean {
    return this.#phase !== 'idle';
  }

  /** True after the peer's KEXINIT until its NEWKEYS: it may send only transport messages. */
  get peerInKex(): boolean {
    return this.#peerKexInit !== undefined && !this.#newKeysReceived;
  }

  /** True until the first exchange completes. */
  get initial(): boolean {
    return this.completed === 0;
  }

  /** Our outbound keys switched: non-kex traffic may flow again. */
  get outboundReady(): boolean {
    return this.#phase === 'idle' || this.#newKeysSent;
  }

  /** RFC 4253 §9: starts a (re)exchange by sending our KEXINIT, unless one is already running. */
  start(initiatedBy: 'local' | 'remote' = 'local'): void {
    if (this.#phase !== 'idle') return;
    this.#phase = 'awaitingKexInit';
    this.#newKeysSent = false;
    this.#newKeysReceived = false;
    this.#ourKexInit = this.#buildKexInit();
    this.#host.sendKexMessage(this.#ourKexInit);
    this.onStart(initiatedBy);
  }

  /**
   * Handles messages 20, 21 and 30-49. Throws ProtocolError on any violation. The host-key
   * signature (made or checked, messages 30/31) is asynchronous: the returned promise settles once
   * it is done and the next keys are prepared; the caller reads no further packet until then.
   */
  handleMessage(payload: Uint8Array): void | Promise<void> {
    const type = payload[0]!;
    if (type === MessageType.KexInit) return this.#onKexInit(payload);
    if (type === MessageType.NewKeys) return this.#onNewKeys(payload);
    if (this.#ignoreNextKexPacket) {
      // RFC 4253 §7: a wrongly guessed first kex packet is silently ignored.
      this.#ignoreNextKexPacket = false;
      return;
    }
    if (this.#phase === 'awaitingKexInitMessage' && type === 30) return this.#onClientPublic(payload);
    if (this.#phase === 'awaitingKexReply' && type === 31) return this.#onServerReply(payload);
    throw new ProtocolError(`Unexpected key exchange message ${type} in phase ${this.#phase}`);
  }

  #buildKexInit(): Uint8Array {
    const { config, isServer, hostKeys } = this.#host;
    const kex = [...config.keyExchangeAlgorithms];
    if (this.completed === 0) {
      // RFC 8308 §2.1 and OpenSSH PROTOCOL §1.10 markers belong to the first KEXINIT only.
      kex.push(isServer ? KexMarkers.extInfoServer : KexMarkers.extInfoClient);
      if (config.strictKex) kex.push(isServer ? KexMarkers.strictServer : KexMarkers.strictClient);
    }
    let hostKeyAlgorithms = config.publicKeyAlgorithms;
    if (isServer) {
      hostKeyAlgorithms = hostKeyAlgorithms.filter((alg) => hostKeys.some((k) => algorithmsOf(k).includes(alg)));
    }
    // A peer only agrees to kex `none` when every list, host keys included, offers `none`.
    if (config.keyExchangeAlgorithms.includes('none') && !hostKeyAlgorithms.includes('none')) {
      hostKeyAlgorithms = [...hostKeyAlgorithms, 'none'];
    }
    return encode(KexInit, {
      cookie: config.randomBytes(16),
      kexAlgorithms: kex,
      serverHostKeyAlgorithms: hostKeyAlgorithms,
      encryptionAlgorithmsClientToServer: config.encryptionAlgorithms,
      encryptionAlgorithmsServerToClient: config.encryptionAlgorithms,
      macAlgorithmsClientToServer: config.hmacAlgorithms,
      macAlgorithmsServerToClient: config.hmacAlgorithms,
      compressionAlgorithmsClientToServer: config.compressionAlgorithms,
      compressionAlgorithmsServerToClient: config.compressionAlgorithms,
      languagesClientToServer: [],
      languagesServerToClient: [],
      firstKexPacketFollows: false,
      reserved: 0,
    }).slice();
  }

  /** RFC 4253 §7.1 */
  #onKexInit(payload: Uint8Array): void {
    if (this.#peerKexInit !== undefined) throw new ProtocolError('Peer sent KEXINIT twice in one exchange');
    const peer = decode(KexInit, payload);
    this.#peerKexInit = payload.slice();
    if (this.#phase === 'idle') this.start('remote');
    const { isServer, config } = this.#host;
    const ours = decode(KexInit, this.#ourKexInit!);
    const clientInit = isServer ? peer : ours;
    const serverInit = isServer ? ours : peer;
    if (this.completed === 0) {
      this.peerWantsExtInfo = peer.kexAlgorithms.includes(isServer ? KexMarkers.extInfoClient : KexMarkers.extInfoServer);
      this.strict =
        config.strictKex && peer.kexAlgorithms.includes(isServer ? KexMarkers.strictClient : KexMarkers.strictServer);
    }
    this.#algorithms = negotiateAlgorithms(clientInit, serverInit);
    if (peer.firstKexPacketFollows && isGuessWrong(clientInit, serverInit)) this.#ignoreNextKexPacket = true;
    const method = kexMethods.get(this.#algorithms.kex);
    if (!method) {
      // Kex `none` (SessionConfig.noSecurity), as Dev Tunnels SSH defines it: the two KEXINITs are
      // the whole exchange. No NEWKEYS goes either way and the keys stay `none`.
      this.#exchangeHash = this.#noneExchangeHash();
      this.sessionId ??= this.#exchangeHash;
      this.#newKeysSent = true;
      this.#newKeysReceived = true;
      this.#maybeComplete();
      return;
    }
    if (isServer) {
      this.#phase = 'awaitingKexInitMessage';
    } else {
      this.#phase = 'awaitingKexReply';
      this.#ephemeral = method.client(config.randomBytes);
      this.#clientPublicValue = this.#ephemeral.publicValue;
      const schema = method.publicEncoding === 'mpint' ? KexInitMpint : KexInitString;
      this.#host.sendKexMessage(encode(schema, { clientPublic: this.#ephemeral.publicValue }));
    }
  }

  /** Server side of messages 30/31. */
  async #onClientPublic(payload: Uint8Array): Promise<void> {
    const algorithms = this.#algorithms!;
    const method = kexMethods.get(algorithms.kex)!;
    const { clientPublic } = decode(method.publicEncoding === 'mpint' ? KexInitMpint : KexInitString, payload);
    const entry = this.#host.hostKeys.find((k) => algorithmsOf(k).includes(algorithms.serverHostKey));
    if (!entry) throw new ProtocolError(`No host key for ${algorithms.serverHostKey}`, DisconnectReason.keyExchangeFailed);
    const hostKey = keyOf(entry);
    const hostKeyBlob = wireBlobOf(entry, algorithms.serverHostKey);
    const result = method.server(clientPublic, this.#host.config.randomBytes);
    const hash = this.#hash(method.hash, method.publicEncoding, {
      hostKeyBlob,
      clientPublic,
      serverPublic: result.publicValue,
      sharedSecret: result.sharedSecret,
    });
    // PROTOCOL.certkeys: a certified host key signs under the plain algorithm.
    this.#phase = 'signing';
    const signature = await hostKey.sign(signingAlgorithmOf(algorithms.serverHostKey), hash);
    const schema = method.publicEncoding === 'mpint' ? KexReplyMpint : KexReplyString;
    this.#host.sendKexMessage(
      encode(schema, { hostKey: hostKeyBlob, serverPublic: result.publicValue, signature }),
    );
    this.#exchangeHash = hash;
    this.#hostKey = hostKey;
    this.#hostKeyBlob = hostKeyBlob;
    this.#deriveAndPrepare(method.hash, result.sharedSecret);
  }

  /** Client side of message 31: verify the host's signature over H before our NEWKEYS goes out. */
  async #onServerReply(payload: Uint8Array): Promise<void> {
    const algorithms = this.#algorithms!;
    const method = kexMethods.get(algorithms.kex)!;
    const reply = decode(method.publicEncoding === 'mpint' ? KexReplyMpint : KexReplyString, payload);
    let hostKey: KeyPair;
    let certificate: Certificate | undefined;
    try {
      // PROTOCOL.certkeys: under a certificate algorithm the blob is the host certificate.
      if (isCertificateAlgorithm(algorithms.serverHostKey)) certificate = new Certificate(reply.hostKey);
      hostKey = certificate?.publicKey ?? KeyPair.fromPublicKeyBlob(reply.hostKey);
    } catch (cause) {
      throw new HostKeyError(`Server host key could not be parsed: ${(cause as Error).message}`, { cause });
    }
    const served = certificate ? certificate.algorithms : hostKey.algorithms;
    if (!served.includes(algorithms.serverHostKey as never)) {
      throw new HostKeyError(`Server host key ${certificate?.certificateType ?? hostKey.keyType} does not match ${algorithms.serverHostKey}`);
    }
    const sharedSecret = this.#ephemeral!.computeSecret(reply.serverPublic);
    this.#ephemeral = undefined;
    const hash = this.#hash(method.hash, method.publicEncoding, {
      hostKeyBlob: reply.hostKey,
      clientPublic: this.#clientPublicValue!,
      serverPublic: reply.serverPublic,
      sharedSecret,
    });
    this.#phase = 'signing';
    if (!(await hostKey.verify(hash, reply.signature, [signingAlgorithmOf(algorithms.serverHostKey)]))) {
      throw new HostKeyError(`Server host key signature (${algorithms.serverHostKey}) does not verify`);
    }
    this.#exchangeHash = hash;
    this.#hostKey = hostKey;
    this.#hostKeyBlob = reply.hostKey.slice();
    this.#hostCertificate = certificate;
    this.#deriveAndPrepare(method.hash, sharedSecret);
  }

  #hash(
    hash: KexHashName,
    publicEncoding: 'mpint' | 'string',
    values: { hostKeyBlob: Uint8Array; clientPublic: Uint8Array; serverPublic: Uint8Array; sharedSecret: Uint8Array },
  ): Uint8Array {
    const { isServer, clientVersion, serverVersion } = this.#host;
    return computeExchangeHash({
      hash,
      clientVersion,
      serverVersion,
      clientKexInit: isServer ? this.#peerKexInit! : this.#ourKexInit!,
      serverKexInit: isServer ? this.#ourKexInit! : this.#peerKexInit!,
      publicEncoding,
      ...values,
    });
  }

  /** Kex `none` has no H; bind the session id to what both sides saw anyway. */
  #noneExchangeHash(): Uint8Array {
    const { isServer, clientVersion, serverVersion } = this.#host;
    const w = new SshWriter();
    w.string(clientVersion).string(serverVersion);
    w.string(isServer ? this.#peerKexInit! : this.#ourKexInit!).string(isServer ? this.#ourKexInit! : this.#peerKexInit!);
    return kexBackend().hash('sha256', w.toBytes());
  }

  /** RFC 4253 §7.2: derive keys, prepare both packet stages, send our NEWKEYS. */
  #deriveAndPrepare(hash: KexHashName, sharedSecret: Uint8Array): void {
    const algorithms = this.#algorithms!;
    this.sessionId ??= this.#exchangeHash!;
    const c2s = cipherAlgorithms.get(algorithms.encryptionClientToServer)!;
    const s2c = cipherAlgorithms.get(algorithms.encryptionServerToClient)!;
    const macC2s = c2s.aead ? undefined : macAlgorithms.get(algorithms.macClientToServer ?? 'none');
    const macS2c = s2c.aead ? undefined : macAlgorithms.get(algorithms.macServerToClient ?? 'none');
    // The MAC keys are derived even under AEAD: session reconnection signs with them.
    const macLenC2s = macAlgorithms.get(algorithms.macClientToServer ?? 'none')?.keyLength ?? 0;
    const macLenS2c = macAlgorithms.get(algorithms.macServerToClient ?? 'none')?.keyLength ?? 0;
    const keys = deriveKeys({
      hash,
      sharedSecret,
      exchangeHash: this.#exchangeHash!,
      sessionId: this.sessionId,
      lengths: {
        clientToServer: { iv: c2s.ivLength, encryptionKey: c2s.keyLength, integrityKey: macLenC2s },
        serverToClient: { iv: s2c.ivLength, encryptionKey: s2c.keyLength, integrityKey: macLenS2c },
      },
    });
    this.integrityKeys = { clientToServer: keys.clientToServer.integrityKey, serverToClient: keys.serverToClient.integrityKey };
    const opening = this.#host.isServer ? c2s.opening(keys.clientToServer, macC2s) : s2c.opening(keys.serverToClient, macS2c);
    const sealing = this.#host.isServer ? s2c.sealing(keys.serverToClient, macS2c) : c2s.sealing(keys.clientToServer, macC2s);
    this.#finishKeys({ opening, sealing });
  }

  /** Integrity keys of the current exchange ('E' and 'F'), used by session reconnection. */
  integrityKeys: { clientToServer: Uint8Array; serverToClient: Uint8Array } | undefined;

  #finishKeys(keys: { opening: OpeningKey; sealing: SealingKey }): void {
    const { compressionClientToServer, compressionServerToClient } = this.#algorithms!;
    const isServer = this.#host.isServer;
    // RFC 4253 §6.2: compression, like the keys, changes at NEWKEYS in each direction.
    this.#host.prepareInbound(keys.opening, this.strict, isServer ? compressionClientToServer : compressionServerToClient);
    this.#host.prepareOutbound(keys.sealing, this.strict, isServer ? compressionServerToClient : compressionClientToServer);
    this.#phase = 'awaitingNewKeys';
    this.#newKeysSent = true;
    this.#host.sendNewKeys(encode(NewKeys, {}), this.completed === 0);
    this.#maybeComplete();
  }

  /** RFC 4253 §7.3: the packet reader already switched keys; check the NEWKEYS was expected. */
  #onNewKeys(payload: Uint8Array): void {
    decode(NewKeys, payload);
    if (this.#phase !== 'awaitingNewKeys' || this.#newKeysReceived) {
      throw new ProtocolError(`Unexpected NEWKEYS in phase ${this.#phase}`);
    }
    this.#newKeysReceived = true;
    this.#maybeComplete();
  }

  #maybeComplete(): void {
    if (!this.#newKeysSent || !this.#newKeysReceived) return;
    const initial = this.completed === 0;
    this.completed++;
    this.#phase = 'idle';
    this.#peerKexInit = undefined;
    this.onComplete({
      algorithms: this.#algorithms!,
      exchangeHash: this.#exchangeHash!,
      hostKey: this.#hostKey,
      hostKeyBlob: this.#hostKeyBlob,
      hostCertificate: this.#hostCertificate,
      initial,
    });
  }
}
