/**
 * Messages declared as data (RFC 4251 §5 field types), with TypeScript types inferred from the
 * declaration. `encode`/`decode` are generic; decode rejects trailing bytes and names the message
 * and field on failure. Hot paths (CHANNEL_DATA) are hand-written elsewhere and checked against this.
 */
import { ProtocolError } from '../errors.js';
import { SshReader, SshWriter } from './wire.js';

/** One wire field: how to read and write a value of type T. */
export interface Field<T> {
  read(r: SshReader): T;
  write(w: SshWriter, v: T): void;
}

/** RFC 4251 §5 `byte`. */
export const byte: Field<number> = { read: (r) => r.byte(), write: (w, v) => void w.byte(v) };
/** RFC 4251 §5 `boolean`. */
export const boolean: Field<boolean> = { read: (r) => r.boolean(), write: (w, v) => void w.boolean(v) };
/** RFC 4251 §5 `uint32`. */
export const uint32: Field<number> = { read: (r) => r.uint32(), write: (w, v) => void w.uint32(v) };
/** RFC 4251 §5 `uint64`, as a bigint. */
export const uint64: Field<bigint> = { read: (r) => r.uint64(), write: (w, v) => void w.uint64(v) };
/** RFC 4251 §5 `string` of raw bytes. */
export const string: Field<Uint8Array> = { read: (r) => r.string(), write: (w, v) => void w.string(v) };
/** RFC 4251 §5 `string` of UTF-8 text. */
export const utf8: Field<string> = { read: (r) => r.utf8(), write: (w, v) => void w.string(v) };
/** RFC 4251 §5 `name-list`. */
export const nameList: Field<string[]> = { read: (r) => r.nameList(), write: (w, v) => void w.nameList(v) };
/** RFC 4251 §5 `mpint`, as its unsigned magnitude. */
export const mpint: Field<Uint8Array> = { read: (r) => r.mpint(), write: (w, v) => void w.mpint(v) };
/** Everything left in the payload; allowed only as the last field. */
export const rest: Field<Uint8Array> = { read: (r) => r.rest(), write: (w, v) => void w.raw(v) };

/** `n` raw bytes (e.g. the KEXINIT cookie). */
export function bytes(n: number): Field<Uint8Array> {
  return {
    read: (r) => r.raw(n),
    write: (w, v) => {
      if (v.length !== n) throw new RangeError(`Expected ${n} bytes, got ${v.length}`);
      w.raw(v);
    },
  };
}

/** A field present only when bytes remain (RFC 4254 optional trailing fields, e.g. ports). */
export function optional<T>(field: Field<T>): Field<T | undefined> {
  return {
    read: (r) => (r.remaining > 0 ? field.read(r) : undefined),
    write: (w, v) => {
      if (v !== undefined) field.write(w, v);
    },
  };
}

type Fields = Record<string, Field<unknown>>;
type ValueOf<F> = F extends Field<infer T> ? T : never;

/** The decoded shape of a message declared with `message()`. */
export type MessageValue<F extends Fields> = { [K in keyof F]: ValueOf<F[K]> };

/** A declared message: its number, RFC name and fields in order. */
export interface MessageSchema<N extends string = string, F extends Fields = Fields> {
  readonly type: number;
  readonly name: N;
  readonly fields: F;
}

/** The value type of a message schema. */
export type MessageOf<S> = S extends MessageSchema<string, infer F> ? MessageValue<F> : never;

/** Declares a message: number, name (RFC, without the SSH_MSG_ prefix, PascalCase) and fields. */
export function message<N extends string, F extends Fields>(type: number, name: N, fields: F): MessageSchema<N, F> {
  return { type, name, fields };
}

/** Encodes a message including its type byte. */
export function encode<F extends Fields>(schema: MessageSchema<string, F>, value: MessageValue<F>): Uint8Array {
  const w = new SshWriter(64);
  w.byte(schema.type);
  for (const key in schema.fields) {
    (schema.fields[key] as Field<unknown>).write(w, value[key]);
  }
  return w.toBytes();
}

/** Decodes a payload that must be `schema` (type byte included); rejects trailing bytes. */
export function decode<F extends Fields>(schema: MessageSchema<string, F>, payload: Uint8Array): MessageValue<F> {
  const r = new SshReader(payload);
  r.context = schema.name;
  const type = r.byte();
  if (type !== schema.type) {
    throw new ProtocolError(`Expected ${schema.name} (${schema.type}), got message ${type}`);
  }
  const out: Record<string, unknown> = {};
  for (const key in schema.fields) {
    r.context = `${schema.name}.${key}`;
    out[key] = (schema.fields[key] as Field<unknown>).read(r);
  }
  r.context = schema.name;
  r.end();
  return out as MessageValue<F>;
}

/** Decodes a payload that is a bare field sequence (request-specific data), no type byte. */
export function decodeFields<F extends Fields>(name: string, fields: F, data: Uint8Array): MessageValue<F> {
  const r = new SshReader(data);
  const out: Record<string, unknown> = {};
  for (const key in fields) {
    r.context = `${name}.${key}`;
    out[key] = (fields[key] as Field<unknown>).read(r);
  }
  r.context = name;
  r.end();
  return out as MessageValue<F>;
}

/** Encodes a bare field sequence (request-specific data), no type byte. */
export function encodeFields<F extends Fields>(fields: F, value: MessageValue<F>): Uint8Array {
  const w = new SshWriter(64);
  for (const key in fields) (fields[key] as Field<unknown>).write(w, value[key]);
  return w.toBytes();
}
