/**
 * A minimal ASN.1 DER reader and writer (ITU-T X.690 §8, §10): just the tags the key formats use
 * (SEQUENCE, INTEGER, OCTET STRING, BIT STRING, OBJECT IDENTIFIER, NULL, context tags). It does not
 * interpret key structures; key-der.ts reads the key bodies with it. Lengths are checked against the
 * bytes present before anything is sliced, so a forged length fails at once.
 */
import { KeyError } from '../../errors.js';

/** Universal tag numbers used by the key formats. */
export const DerTag = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  sequence: 0x30,
} as const;

/** A tag-length-value element; `value` is a view into the input. */
export interface DerElement {
  tag: number;
  value: Uint8Array;
}

/** Reads consecutive DER elements from a buffer. `what` names the structure for error messages. */
export class DerReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #offset = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  get done(): boolean {
    return this.#offset >= this.#bytes.length;
  }

  /** X.690 §8.1.2-8.1.3: one element (low tag numbers and definite lengths only, as DER requires). */
  read(): DerElement {
    const start = this.#offset;
    const bytes = this.#bytes;
    if (start + 2 > bytes.length) throw this.#error(`unexpected end at offset ${start}`);
    const tag = bytes[start]!;
    if ((tag & 0x1f) === 0x1f) throw this.#error(`unsupported high tag number at offset ${start}`);
    let length = bytes[start + 1]!;
    let at = start + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4) throw this.#error(`unsupported length encoding at offset ${start}`);
      if (at + count > bytes.length) throw this.#error(`unexpected end at offset ${at}`);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[at + i]!;
      at += count;
    }
    if (at + length > bytes.length) {
      throw this.#error(`element of ${length} bytes at offset ${start} exceeds the ${bytes.length - at} bytes left`);
    }
    this.#offset = at + length;
    return { tag, value: bytes.subarray(at, at + length) };
  }

  /** Reads one element and checks its tag. */
  expect(tag: number, field: string): Uint8Array {
    const element = this.read();
    if (element.tag !== tag) {
      throw this.#error(`${field} has tag 0x${element.tag.toString(16)}, expected 0x${tag.toString(16)}`);
    }
    return element.value;
  }

  /** Reads a SEQUENCE and returns a reader over its contents. */
  sequence(field: string): DerReader {
    return new DerReader(this.expect(DerTag.sequence, field), this.#what);
  }

  /** Reads an OBJECT IDENTIFIER in dotted form. */
  oid(field: string): string {
    return decodeOid(this.expect(DerTag.objectIdentifier, field));
  }

  /** Reads a non-negative INTEGER that fits a JS number. */
  smallInteger(field: string): number {
    const value = this.expect(DerTag.integer, field);
    if (value.length === 0 || value.length > 6 || value[0]! & 0x80) {
      throw this.#error(`${field} is not a small non-negative integer`);
    }
    let n = 0;
    for (const b of value) n = n * 256 + b;
    return n;
  }

  /** Rejects trailing elements. */
  end(): void {
    if (!this.done) throw this.#error(`${this.#bytes.length - this.#offset} trailing bytes`);
  }

  #error(detail: string): KeyError {
    return new KeyError(`Invalid ${this.#what}: ${detail}`);
  }
}

function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function encodeLength(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n & 0xff);
  return [0x80 | out.length, ...out];
}

/** X.690 §8.1: one DER element from a tag and its encoded contents. */
export function derElement(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of contents) size += c.length;
  const header = [tag, ...encodeLength(size)];
  const out = new Uint8Array(header.length + size);
  out.set(header);
  let at = header.length;
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** X.690 §8.19: an OBJECT IDENTIFIER from dotted form. */
export function derOid(dotted: string): Uint8Array {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const body: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) groups.unshift(0x80 | (n & 0x7f));
    body.push(...groups);
  }
  return derElement(DerTag.objectIdentifier, Uint8Array.from(body));
}

/** X.690 §8.3: a non-negative INTEGER. */
export function derSmallInteger(value: number): Uint8Array {
  const body: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) body.unshift(n & 0xff);
  if (body.length === 0 || body[0]! & 0x80) body.unshift(0);
  return derElement(DerTag.integer, Uint8Array.from(body));
}
