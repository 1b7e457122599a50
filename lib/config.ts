/**
 * SessionConfig: algorithm preferences, protocol extensions, limits, services and custom message
 * handlers, plus the injected randomness and clock every core uses. One object, shared by any
 * number of sessions; sessions read it when they start and when they negotiate.
 */
import { Algorithms, AuthenticationMethods, ProtocolExtensions } from './algorithms.js';
import { isZlibAvailable } from './compression/zlib-engine.js';
import { installedFastestCipher } from './cipher/suite.js';
import { markSystemRandom } from './kex/backend.js';
import type { TraceSetting } from './trace/trace-event.js';

/** `names` with the installed cipher suite's fastest cipher first, when it names one in the list. */
function fastestFirst(names: string[]): string[] {
  const fastest = installedFastestCipher();
  return fastest !== undefined && names.includes(fastest) ? [fastest, ...names.filter((n) => n !== fastest)] : names;
}

/** Handler for a custom message number (config.messageHandlers); `session` is the receiving session. */
export type MessageHandler = (payload: Uint8Array, session: unknown) => void | Promise<void>;

/** When a registered service is activated (reference README "Services"). */
export interface ServiceActivation {
  /** Activated by SSH_MSG_SERVICE_REQUEST with this name (or any of these names). */
  serviceRequest?: string | readonly string[];
  /** Activated by a global (session) request of this type (or any of these types). */
  sessionRequest?: string | readonly string[];
  /** Activated by a channel open of this type (or any of these types). */
  channelType?: string | readonly string[];
  /** Activated by a channel request of this type (optionally only on `channelType` channels). */
  channelRequest?: string | readonly string[];
}

/** Builds a service instance for a session the first time its activation fires. */
export type ServiceFactory = (session: any, config: unknown) => unknown;

/** A registered service: name, activation rule, factory and its per-service configuration. */
export interface ServiceRegistration {
  readonly name: string;
  readonly activation: ServiceActivation;
  readonly factory: ServiceFactory;
  readonly config: unknown;
}

/** WebCrypto's `getRandomValues` fills at most this many bytes per call. */
const GET_RANDOM_VALUES_LIMIT = 65536;

/** Requests up to this size are served from `randomPool`; larger ones call the CSPRNG directly. */
const POOLED_REQUEST_LIMIT = 256;
/** Bytes drawn from the CSPRNG at once for small requests. */
const RANDOM_POOL_SIZE = 4096;
let randomPool = new Uint8Array(0);
let randomPoolAt = 0;

/**
 * `n` bytes from the runtime's CSPRNG: `globalThis.crypto.getRandomValues`, present in browsers,
 * Bun, Deno and Node 20+ alike. Each call into the CSPRNG costs far more than its bytes (about
 * 5-20 µs on Node, where a session setup asks about ten times: cookie, ephemeral keys, padding),
 * so small requests are cut from a pool drawn 4 KiB at a time; every byte is handed out once.
 */
const secureRandomBytes = markSystemRandom((n: number): Uint8Array => {
  if (n <= POOLED_REQUEST_LIMIT) {
    if (randomPoolAt + n > randomPool.length) {
      randomPool = globalThis.crypto.getRandomValues(new Uint8Array(RANDOM_POOL_SIZE));
      randomPoolAt = 0;
    }
    const out = randomPool.slice(randomPoolAt, randomPoolAt + n);
    randomPool.fill(0, randomPoolAt, randomPoolAt + n);
    randomPoolAt += n;
    return out;
  }
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += GET_RANDOM_VALUES_LIMIT) {
    globalThis.crypto.getRandomValues(out.subarray(at, Math.min(n, at + GET_RANDOM_VALUES_LIMIT)));
  }
  return out;
});

/** Configuration shared by client and server sessions. */
export class SessionConfig {
  /** Key exchange methods, preferred first. */
  keyExchangeAlgorithms: string[] = [
    Algorithms.kex.mlkem768x25519Sha256,
    Algorithms.kex.curve25519Sha256,
    Algorithms.kex.curve25519Sha256Libssh,
    Algorithms.kex.ecdhNistp521,
    Algorithms.kex.ecdhNistp384,
    Algorithms.kex.ecdhNistp256,
    Algorithms.kex.dhGroup16Sha512,
    Algorithms.kex.dhGroup14Sha256,
  ];
  /** Host key and user key signature algorithms, preferred first. */
  publicKeyAlgorithms: string[] = [
    Algorithms.publicKey.ed25519,
    Algorithms.publicKey.ecdsaNistp521,
    Algorithms.publicKey.ecdsaNistp384,
    Algorithms.publicKey.ecdsaNistp256,
    Algorithms.publicKey.rsaSha2_512,
    Algorithms.publicKey.rsaSha2_256,
    // Certificates last: a client that lists them first asks servers for their host certificate.
    Algorithms.publicKey.ed25519Cert,
    Algorithms.publicKey.ecdsaNistp521Cert,
    Algorithms.publicKey.ecdsaNistp384Cert,
    Algorithms.publicKey.ecdsaNistp256Cert,
    Algorithms.publicKey.rsaSha2_512Cert,
    Algorithms.publicKey.rsaSha2_256Cert,
  ];
  /**
   * Ciphers, preferred first. Where the installed cipher suite names a faster cipher (the browser
   * build's `@noble` suite: chacha20-poly1305) that one moves to the front.
   */
  encryptionAlgorithms: string[] = fastestFirst([
    Algorithms.encryption.aes256Gcm,
    Algorithms.encryption.chacha20Poly1305,
    Algorithms.encryption.aes128Gcm,
    Algorithms.encryption.aes256Ctr,
    Algorithms.encryption.aes192Ctr,
    Algorithms.encryption.aes128Ctr,
  ]);
  hmacAlgorithms: string[] = [
    Algorithms.hmac.hmacSha512Etm,
    Algorithms.hmac.hmacSha256Etm,
    Algorithms.hmac.hmacSha512,
    Algorithms.hmac.hmacSha256,
  ];
  /**
   * Compression methods, preferred first. The client's first choice the server also lists wins
   * (RFC 4253 §7.1), so with `none` first our client never compresses, while our server still
   * grants compression to a client that asks first for it (`ssh -C`). Turn it on for a client
   * with `['zlib@openssh.com', 'none']`. Plain `zlib` is left out by default, as OpenSSH's server
   * does: it would have a server inflate data from peers that have not authenticated yet. Where
   * the runtime has no synchronous zlib (the browser build) zlib is left out: see zlib-engine.ts.
   */
  compressionAlgorithms: string[] = isZlibAvailable()
    ? [Algorithms.compression.none, Algorithms.compression.zlibOpenssh]
    : [Algorithms.compression.none];
  /** Extensions announced in EXT_INFO (RFC 8308) and enabled when the peer announces them too. */
  protocolExtensions: string[] = [ProtocolExtensions.serverSignatureAlgorithms, ProtocolExtensions.openChannelRequest];
  /** Authentication methods a server offers and a client may use, in the client's order of preference. */
  authenticationMethods: string[] = [
    AuthenticationMethods.publicKey,
    AuthenticationMethods.keyboardInteractive,
    AuthenticationMethods.password,
    AuthenticationMethods.none,
  ];
  /** Receive window per channel in bytes; also the bound of each channel's inbound queue. */
  maxChannelWindowSize = 2 * 1024 * 1024;
  /** Largest CHANNEL_DATA payload we accept per packet (advertised as maximum packet size). */
  maxChannelPacketSize = 128 * 1024;
  /** Largest inbound binary packet (`packet_length`) accepted; RFC 4253 §6.1 requires at least 35000. */
  maxPacketLength = 256 * 1024 + 1024;
  /** Re-key after this many bytes in either direction (RFC 4253 §9 recommends 1 GiB). */
  keyRotationThreshold = 1024 * 1024 * 1024;
  /** Re-key after this many milliseconds (RFC 4253 §9 recommends one hour); 0 disables. */
  keyRotationInterval = 60 * 60 * 1000;
  /**
   * Milliseconds an exchange (the first one including the version exchange, or a re-key) may take
   * before the session is closed with KEY_EXCHANGE_FAILED; 0 disables.
   */
  keyExchangeTimeout = 60 * 1000;
  /** Seconds between keepalive global requests while idle; 0 disables. */
  keepAliveInterval = 0;
  /** Keepalive requests left unanswered before the peer is declared dead. */
  keepAliveCountMax = 3;
  /** Server: authentication attempts allowed before DISCONNECT (reason 14). */
  maxClientAuthenticationAttempts = 5;
  /** Server: milliseconds a client has to authenticate; 0 disables. */
  authenticationTimeout = 2 * 60 * 1000;
  /** Maximum number of open channels per session; further opens are refused (resource shortage). */
  maxChannels = 1024;
  /**
   * The peer's channel requests waiting for their handler's answer across all channels of a
   * session (each channel also holds at most 1024); one more is a DISCONNECT (protocol error).
   * A peer that sends requests faster than the handlers answer them cannot grow the session
   * past this many, nor past `maxPendingChannelRequestBytes` of their data.
   */
  maxPendingChannelRequests = 4096;
  /** Bytes of request data those waiting channel requests may hold; past it, DISCONNECT (protocol error). */
  maxPendingChannelRequestBytes = 16 * 1024 * 1024;
  /**
   * Bytes of sealed packets waiting for the byte stream past which the session stops reading
   * from the peer until half of them went out: a peer that provokes replies (UNIMPLEMENTED,
   * REQUEST_FAILURE, CHANNEL_FAILURE...) and never reads them is held back by TCP instead of
   * growing our memory. Messages held at the key-exchange gate may reach four times this before
   * the session ends with PROTOCOL_ERROR (the gate needs the peer's KEXINIT, so reading goes on).
   */
  maxOutboundBuffer = 8 * 1024 * 1024;
  /**
   * Reconnect: the most sent messages kept until the peer acknowledges them; a reconnect that
   * needs an evicted one fails (client/serverDroppedMessages). 0 keeps every message.
   */
  maxReconnectMessageCacheSize = 1024;
  /**
   * Reconnect: milliseconds a disconnected session (client or server) waits for a reconnect
   * before it closes for good with CONNECTION_LOST; 0 waits forever. Five minutes rides out a
   * laptop waking up or a network switch, and bounds how long a server keeps the channels and
   * send cache of a client that never comes back.
   */
  reconnectTimeout = 5 * 60 * 1000;
  /** Use strict key exchange (kex-strict-*-v00@openssh.com, the Terrapin countermeasure) when the peer does. */
  strictKex = true;
  /**
   * Diagnostics like `ssh -v`: `info`, `debug` or `verbose` (each includes the ones before), or
   * `off`. Events go to `session.onTrace`; never a password, key, signature or channel data at
   * any level. Read when a session is created. See README "Diagnostics".
   */
  trace: TraceSetting = 'off';
  /** Custom message numbers and their handlers (numbers a session does not otherwise handle). */
  messageHandlers = new Map<number, MessageHandler>();
  /** Registered services (see `addService`). */
  readonly services: ServiceRegistration[] = [];
  /** Source of random bytes (injected so tests are deterministic). */
  randomBytes: (n: number) => Uint8Array = secureRandomBytes;
  /** Monotonic clock in milliseconds (injected so timers can be tested). */
  now: () => number = () => performance.now();
  /** Wall clock in milliseconds since the epoch, for certificate validity windows (injected for tests). */
  clock: () => number = () => Date.now();

  /** Secure defaults. */
  static default(): SessionConfig {
    return new SessionConfig();
  }

  /**
   * Secure defaults plus the session reconnection and latency extensions (Microsoft
   * `session-reconnect@microsoft.com`, `session-latency@microsoft.com`). When both sides list
   * them, a lost byte stream leaves the session disconnected instead of closed, and the client
   * resumes it with `reconnect(duplex)` (servers need a shared `reconnectableSessions` set).
   */
  static defaultWithReconnect(): SessionConfig {
    const config = new SessionConfig();
    config.protocolExtensions.push(ProtocolExtensions.sessionReconnect, ProtocolExtensions.sessionLatency);
    return config;
  }

  /** Every algorithm `none`: no encryption, no integrity, no host key. For tests only. */
  static noSecurity(): SessionConfig {
    const config = new SessionConfig();
    config.keyExchangeAlgorithms = [Algorithms.kex.none];
    config.publicKeyAlgorithms = [];
    config.encryptionAlgorithms = [Algorithms.encryption.none];
    config.hmacAlgorithms = [Algorithms.hmac.none];
    // Compression starts at NEWKEYS, which kex `none` never sends.
    config.compressionAlgorithms = [Algorithms.compression.none];
    return config;
  }

  /**
   * Registers a service activated by a service request, session request, channel type or channel
   * request; `factory` builds it once per session.
   * @example config.addService('my-service', { sessionRequest: 'my-service' }, (s) => new MyService(s));
   */
  addService(name: string, activation: ServiceActivation, factory: ServiceFactory, serviceConfig?: unknown): void {
    if (this.services.some((s) => s.name === name)) throw new Error(`Service ${name} is already registered`);
    this.services.push({ name, activation, factory, config: serviceConfig });
  }
}
