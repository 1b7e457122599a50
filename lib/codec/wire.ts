/**
 * RFC 4251 §5 data types: a bounds-checked reader and a growable writer. No I/O, no messages.
 * Decode failures are ProtocolErrors naming the field and byte offset.
 */
import { ProtocolError } from '../errors.js';

// ignoreBOM keeps a leading U+FEFF: it is part of the peer's text, not a byte-order mark to drop.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const textEncoder = new TextEncoder();

/** Reads RFC 4251 §5 values from a payload, tracking the offset for error messages. */
export class SshReader {
  readonly bytes: Uint8Array;
  #view: DataView;
  offset: number;
  /** The message and field being read, used in error messages. */
  context = '';

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  #need(n: number): void {
    if (this.offset + n > this.bytes.length) {
      throw new ProtocolError(
        `${this.context || 'Payload'}: unexpected end of payload at offset ${this.offset} (need ${n} bytes, have ${this.remaining})`,
      );
    }
  }

  byte(): number {
    this.#need(1);
    return this.bytes[this.offset++]!;
  }

  boolean(): boolean {
    return this.byte() !== 0;
  }

  uint32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  uint64(): bigint {
    this.#need(8);
    const v = this.#view.getBigUint64(this.offset);
    this.offset += 8;
    return v;
  }

  /** `string` as raw bytes; a view into the payload, not a copy. */
  string(): Uint8Array {
    const length = this.uint32();
    this.#need(length);
    const v = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }

  /** `string` holding ISO-10646 UTF-8 text. */
  utf8(): string {
    const at = this.offset;
    const raw = this.string();
    try {
      return textDecoder.decode(raw);
    } catch (cause) {
      throw new ProtocolError(`${this.context || 'Payload'}: invalid UTF-8 at offset ${at}`, undefined, { cause });
    }
  }

  /** `name-list`: comma-separated US-ASCII names. */
  nameList(): string[] {
    const raw = this.string();
    if (raw.length === 0) return [];
    return latin1(raw).split(',');
  }

  /** `mpint` as its unsigned big-endian magnitude without leading zeros; negatives are refused. */
  mpint(): Uint8Array {
    const at = this.offset;
    const raw = this.string();
    if (raw.length > 0 && raw[0]! & 0x80) {
      throw new ProtocolError(`${this.context || 'Payload'}: negative mpint at offset ${at}`);
    }
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  /** Exactly `n` raw bytes. */
  raw(n: number): Uint8Array {
    this.#need(n);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** Everything left. */
  rest(): Uint8Array {
    const v = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return v;
  }

  /** Rejects trailing bytes after a complete message. */
  end(): void {
    if (this.offset !== this.bytes.length) {
      throw new ProtocolError(
        `${this.context || 'Payload'}: ${this.bytes.length - this.offset} trailing bytes at offset ${this.offset}`,
      );
    }
  }
}

/** Writes RFC 4251 §5 values into a buffer that grows by doubling. */
export class SshWriter {
  #buffer: Uint8Array;
  #view: DataView;
  length = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buffer.buffer);
  }

  #reserve(n: number): void {
    const needed = this.length + n;
    if (needed <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.length));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
  }

  byte(v: number): this {
    this.#reserve(1);
    this.#buffer[this.length++] = v;
    return this;
  }

  boolean(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  uint32(v: number): this {
    this.#reserve(4);
    this.#view.setUint32(this.length, v);
    this.length += 4;
    return this;
  }

  uint64(v: bigint): this {
    this.#reserve(8);
    this.#view.setBigUint64(this.length, v);
    this.length += 8;
    return this;
  }

  raw(v: Uint8Array): this {
    this.#reserve(v.length);
    this.#buffer.set(v, this.length);
    this.length += v.length;
    return this;
  }

  string(v: Uint8Array | string): this {
    const bytes = typeof v === 'string' ? textEncoder.encode(v) : v;
    this.uint32(bytes.length);
    return this.raw(bytes);
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }

  /** `mpint` from an unsigned big-endian magnitude (leading zeros allowed in the input). */
  mpint(magnitude: Uint8Array): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const body = magnitude.subarray(start);
    const pad = body.length > 0 && body[0]! & 0x80 ? 1 : 0;
    this.uint32(body.length + pad);
    if (pad) this.byte(0);
    return this.raw(body);
  }

  /** The bytes written so far (a copy-free view). */
  toBytes(): Uint8Array {
    return this.#buffer.subarray(0, this.length);
  }
}

/**
 * Bytes to a string one char per byte (names are US-ASCII, RFC 4251 §5). Node's Buffer decodes
 * natively; the portable loop serves elsewhere (a KEXINIT carries about 1.5 KiB of names).
 */
export const latin1: (bytes: Uint8Array) => string =
  typeof Buffer === 'function'
    ? (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
    : (bytes) => {
        let s = '';
        for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
        return s;
      };

/** Text to UTF-8 bytes. */
export function utf8Encode(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/** UTF-8 bytes to text (lenient: invalid sequences become U+FFFD). */
export function utf8Decode(bytes: Uint8Array): string {
  return lenientTextDecoder.decode(bytes);
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
