/**
 * RFC 4253 §4.2 protocol version exchange: our identification line, and a sans-I/O parser for the
 * peer's, which tolerates lines before the server's identification, CR LF or bare LF, and refuses
 * SSH-1, overlong lines and garbage with a clear ProtocolError. Packets are not its business.
 */
import { DisconnectReason, ProtocolError } from '../errors.js';
import { latin1 } from '../codec/wire.js';

/** Our software version, as it appears in the identification string. */
export const SOFTWARE_VERSION = 'ssh-streams_0.1';

/** RFC 4253 §4.2: lines, including CR LF, are at most 255 bytes. */
const MAX_LINE_LENGTH = 255;
/** Lines a server may send before its identification; generous, but bounded. */
const MAX_PREAMBLE_LINES = 64;

/** RFC 4253 §4.2: the identification line we send, CR LF included. */
export function identificationLine(softwareVersion = SOFTWARE_VERSION, comments?: string): Uint8Array {
  const line = `SSH-2.0-${softwareVersion}${comments ? ` ${comments}` : ''}\r\n`;
  if (line.length > MAX_LINE_LENGTH) throw new RangeError(`Identification line is ${line.length} bytes, limit 255`);
  return new TextEncoder().encode(line);
}

/** The peer's identification and whatever bytes followed it (the first binary packets). */
export interface VersionResult {
  /** The identification string without CR LF, as it enters the exchange hash. */
  readonly version: string;
  /** Lines the peer sent before its identification (servers only). */
  readonly preamble: readonly string[];
  /** Bytes received after the identification line. */
  readonly rest: Uint8Array;
}

/** RFC 4253 §4.2: collects bytes until the peer's identification line is complete. */
export class VersionExchange {
  #pending: Uint8Array = new Uint8Array(0);
  #preamble: string[] = [];
  readonly #allowPreamble: boolean;

  /** `allowPreamble`: true when reading a server's lines (a client must send its identification first). */
  constructor(allowPreamble: boolean) {
    this.#allowPreamble = allowPreamble;
  }

  /** Feeds bytes; returns the result once the identification line is complete. */
  push(bytes: Uint8Array): VersionResult | undefined {
    let buf = bytes;
    if (this.#pending.length > 0) {
      buf = new Uint8Array(this.#pending.length + bytes.length);
      buf.set(this.#pending);
      buf.set(bytes, this.#pending.length);
    }
    let start = 0;
    for (;;) {
      const lf = buf.indexOf(0x0a, start);
      if (lf < 0) {
        if (buf.length - start >= MAX_LINE_LENGTH) this.#fail(`Identification line exceeds ${MAX_LINE_LENGTH} bytes`);
        this.#pending = buf.slice(start);
        return undefined;
      }
      if (lf + 1 - start > MAX_LINE_LENGTH) this.#fail(`Identification line exceeds ${MAX_LINE_LENGTH} bytes`);
      const end = lf > start && buf[lf - 1] === 0x0d ? lf - 1 : lf;
      const line = latin1(buf.subarray(start, end));
      start = lf + 1;
      if (line.startsWith('SSH-')) {
        this.#check(line);
        return { version: line, preamble: this.#preamble, rest: buf.slice(start) };
      }
      if (!this.#allowPreamble) this.#fail(`Expected an SSH identification line, got ${describe(line)}`);
      if (line.includes('\0')) this.#fail('Line before identification contains a NUL byte');
      this.#preamble.push(line);
      if (this.#preamble.length > MAX_PREAMBLE_LINES) {
        this.#fail(`No SSH identification within ${MAX_PREAMBLE_LINES} lines`);
      }
    }
  }

  /** The stream ended before an identification line. */
  end(): never {
    throw new ProtocolError(
      'Connection closed before the SSH identification line',
      DisconnectReason.connectionLost,
    );
  }

  #check(line: string): void {
    const match = /^SSH-([0-9.]+)-([^ ]*)/.exec(line);
    if (!match || match[2] === '') this.#fail(`Malformed identification ${describe(line)}`);
    const protoversion = match[1]!;
    // RFC 4253 §5.1: "1.99" announces a server that also speaks 2.0.
    if (protoversion !== '2.0' && protoversion !== '1.99') {
      throw new ProtocolError(
        `Peer protocol version ${protoversion} is not supported (identification ${describe(line)})`,
        DisconnectReason.protocolVersionNotSupported,
      );
    }
    if (/[\x00-\x1f\x7f]/.test(line)) this.#fail(`Identification contains control characters: ${describe(line)}`);
  }

  #fail(message: string): never {
    throw new ProtocolError(message, DisconnectReason.protocolError);
  }
}

function describe(line: string): string {
  return JSON.stringify(line.length > 64 ? `${line.slice(0, 64)}...` : line);
}

/**
 * Reads the peer's identification from a byte stream reader; the reader stays usable for the
 * packets that follow (`rest` holds bytes already read past the line).
 */
export async function readIdentification(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  allowPreamble: boolean,
): Promise<VersionResult> {
  const exchange = new VersionExchange(allowPreamble);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return exchange.end();
    const result = exchange.push(value);
    if (result) return result;
  }
}
