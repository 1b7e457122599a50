/**
 * The SOCKS handshake of a dynamic forward (`ssh -D`), sans I/O: SOCKS4 and 4a (CONNECT with an
 * IPv4 address or a host name) and SOCKS5 (RFC 1928: no authentication, CONNECT to IPv4, IPv6 or
 * a domain name). Bytes in; out come replies to send and, once complete, the target to connect
 * to plus any bytes that followed the request. Replies for the connection's outcome are built
 * here too, so the caller maps channel-open failures onto SOCKS reply codes.
 */
import { ChannelOpenFailureReason, SshError } from '../errors.js';

/** Longest handshake buffered before the client is refused (a SOCKS4 user id or 4a name is unbounded on the wire). */
const maxHandshakeLength = 1024;

/** RFC 1928 §6 reply codes. */
export const Socks5Reply = {
  succeeded: 0,
  generalFailure: 1,
  notAllowed: 2,
  networkUnreachable: 3,
  hostUnreachable: 4,
  connectionRefused: 5,
  commandNotSupported: 7,
  addressTypeNotSupported: 8,
} as const;

/** A malformed or unsupported SOCKS request; `reply` is what to send before closing (if anything). */
export class SocksError extends SshError {
  readonly reply: Uint8Array | undefined;
  constructor(message: string, reply?: Uint8Array) {
    super(message);
    this.reply = reply;
  }
}

/** The CONNECT target a client asked for. */
export interface SocksTarget {
  readonly version: 4 | 5;
  readonly host: string;
  readonly port: number;
}

/** What `SocksHandshake.push` produced. */
export interface SocksProgress {
  /** Bytes to send to the client now (SOCKS5 method selection). */
  readonly reply?: Uint8Array;
  /** Set once the CONNECT request is complete. */
  readonly target?: SocksTarget;
  /** Bytes the client sent after its request: the start of the forwarded stream. */
  readonly rest?: Uint8Array;
}

type State = 'start' | 'socks5-request' | 'done';

/** One client's SOCKS handshake. */
export class SocksHandshake {
  #buffer = new Uint8Array(0);
  #state: State = 'start';

  /**
   * Feeds bytes from the client.
   * @throws SocksError for a malformed or unsupported request (its `reply`, when set, goes to the client)
   */
  push(bytes: Uint8Array): SocksProgress {
    if (this.#state === 'done') throw new SocksError('SOCKS handshake is already complete');
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    this.#buffer = joined;
    let reply: Uint8Array | undefined;
    if (this.#state === 'start') {
      const version = joined[0];
      if (version === undefined) return {};
      if (version === 4) return this.#finish(parseSocks4(joined));
      if (version !== 5) throw new SocksError(`Unknown SOCKS version ${version}`);
      const greeting = parseSocks5Greeting(joined);
      if (!greeting) return this.#bounded({});
      if (!greeting.methods.includes(0)) {
        throw new SocksError(`SOCKS5 client offers no method we accept (${greeting.methods.join(', ')}), only no-authentication (0)`, Uint8Array.of(5, 0xff));
      }
      reply = Uint8Array.of(5, 0);
      this.#buffer = joined.slice(greeting.length);
      this.#state = 'socks5-request';
    }
    let request: { target: SocksTarget; length: number } | undefined;
    try {
      request = parseSocks5Request(this.#buffer);
    } catch (error) {
      // The method selection of this same push goes out before the request's error reply.
      if (!reply || !(error instanceof SocksError)) throw error;
      throw new SocksError(error.message, error.reply ? Uint8Array.of(...reply, ...error.reply) : reply);
    }
    if (!request) return this.#bounded(reply ? { reply } : {});
    const done = this.#finish(request);
    return reply ? { ...done, reply } : done;
  }

  #bounded(progress: SocksProgress): SocksProgress {
    if (this.#buffer.length > maxHandshakeLength) throw new SocksError(`SOCKS request longer than ${maxHandshakeLength} bytes`);
    return progress;
  }

  #finish(parsed: { target: SocksTarget; length: number } | undefined): SocksProgress {
    if (!parsed) return this.#bounded({});
    this.#state = 'done';
    const rest = this.#buffer.slice(parsed.length);
    this.#buffer = new Uint8Array(0);
    return { target: parsed.target, rest };
  }
}

/**
 * The reply to send once the connection is made (`reason` undefined) or failed with an RFC 4254
 * §5.1 channel-open failure reason.
 */
export function socksReply(version: 4 | 5, reason?: number): Uint8Array {
  if (version === 4) return Uint8Array.of(0, reason === undefined ? 90 : 91, 0, 0, 0, 0, 0, 0);
  return socks5Reply(reason === undefined ? Socks5Reply.succeeded : socks5ReplyOf(reason));
}

function socks5Reply(code: number): Uint8Array {
  // The bound address is not ours to tell (the peer made the connection): 0.0.0.0:0, as OpenSSH.
  return Uint8Array.of(5, code, 0, 1, 0, 0, 0, 0, 0, 0);
}

/** RFC 4254 §5.1 open failure reasons onto RFC 1928 §6 replies. */
function socks5ReplyOf(reason: number): number {
  if (reason === ChannelOpenFailureReason.administrativelyProhibited) return Socks5Reply.notAllowed;
  if (reason === ChannelOpenFailureReason.connectFailed) return Socks5Reply.connectionRefused;
  return Socks5Reply.generalFailure;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** SOCKS4 / 4a: VN CD DSTPORT DSTIP USERID NUL [DOMAIN NUL]. */
function parseSocks4(b: Uint8Array): { target: SocksTarget; length: number } | undefined {
  if (b.length >= 2 && b[1] !== 1) throw new SocksError(`SOCKS4 command ${b[1]} is not supported, only CONNECT (1)`, socksReply(4, 1));
  if (b.length < 9) return undefined;
  const port = (b[2]! << 8) | b[3]!;
  const userEnd = b.indexOf(0, 8);
  if (userEnd < 0) return undefined;
  let host = `${b[4]}.${b[5]}.${b[6]}.${b[7]}`;
  let length = userEnd + 1;
  // SOCKS4a: 0.0.0.x (x non-zero) means the host name follows the user id.
  if (b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] !== 0) {
    const nameEnd = b.indexOf(0, length);
    if (nameEnd < 0) return undefined;
    host = text(b.subarray(length, nameEnd), 'SOCKS4a host name');
    length = nameEnd + 1;
  }
  if (host === '' || port === 0) throw new SocksError(`SOCKS4 request for ${host}:${port} has no target`, socksReply(4, 1));
  return { target: { version: 4, host, port }, length };
}

/** RFC 1928 §3: VER NMETHODS METHODS. */
function parseSocks5Greeting(b: Uint8Array): { methods: number[]; length: number } | undefined {
  if (b.length < 2) return undefined;
  const length = 2 + b[1]!;
  if (b[1] === 0) throw new SocksError('SOCKS5 greeting lists no methods', Uint8Array.of(5, 0xff));
  if (b.length < length) return undefined;
  return { methods: [...b.subarray(2, length)], length };
}

/** RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT. */
function parseSocks5Request(b: Uint8Array): { target: SocksTarget; length: number } | undefined {
  if (b.length < 4) return undefined;
  if (b[0] !== 5) throw new SocksError(`SOCKS5 request has version ${b[0]}`, socks5Reply(Socks5Reply.generalFailure));
  if (b[1] !== 1) throw new SocksError(`SOCKS5 command ${b[1]} is not supported, only CONNECT (1)`, socks5Reply(Socks5Reply.commandNotSupported));
  const type = b[3];
  let host: string;
  let at: number;
  if (type === 1) {
    if (b.length < 10) return undefined;
    host = [...b.subarray(4, 8)].join('.');
    at = 8;
  } else if (type === 4) {
    if (b.length < 22) return undefined;
    const words: string[] = [];
    for (let i = 4; i < 20; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16));
    host = words.join(':');
    at = 20;
  } else if (type === 3) {
    if (b.length < 5) return undefined;
    const n = b[4]!;
    if (n === 0) throw new SocksError('SOCKS5 request has an empty domain name', socks5Reply(Socks5Reply.hostUnreachable));
    if (b.length < 5 + n + 2) return undefined;
    host = text(b.subarray(5, 5 + n), 'SOCKS5 domain name');
    at = 5 + n;
  } else {
    throw new SocksError(`SOCKS5 address type ${type} is not supported`, socks5Reply(Socks5Reply.addressTypeNotSupported));
  }
  const port = (b[at]! << 8) | b[at + 1]!;
  if (port === 0) throw new SocksError(`SOCKS5 request for ${host} has port 0`, socks5Reply(Socks5Reply.generalFailure));
  return { target: { version: 5, host, port }, length: at + 2 };
}

function text(bytes: Uint8Array, what: string): string {
  try {
    const value = decoder.decode(bytes);
    if (/[\0-\x1f\x7f]/.test(value)) throw new Error('control character');
    return value;
  } catch {
    throw new SocksError(`${what} is not printable text`);
  }
}
