/**
 * What `connect()` accepts: a `{ readable, writable }` pair of Web Streams, or a runtime's own
 * byte stream that the installed adapter turns into one — on Node a connected `node:net` Socket,
 * adapted by `socketToDuplex` (installed by lib/platform/node.ts), which passes received buffers
 * on without copying and pushes back through 'drain'; `Duplex.toWeb(socket)` works too but costs
 * a copy per received chunk and never pushes back.
 */
import { SshError } from '../errors.js';
import type { Duplex } from './transport-types.js';

/** A runtime's own byte stream (a node:net Socket on Node), recognised by the installed adapter. */
export interface NativeByteStream {
  on(event: string, listener: (...args: never[]) => void): unknown;
  write(chunk: Uint8Array, ...rest: never[]): boolean;
}

/** A byte stream `connect()` can run a session over. */
export type ByteStream = Duplex | NativeByteStream;

/** Turns a native stream into a Duplex, or returns undefined when it does not know the stream. */
export type ByteStreamAdapter = (stream: NativeByteStream) => Duplex | undefined;

let installed: { name: string; adapt: ByteStreamAdapter } | undefined;

/** Installs the runtime's adapter (`name` is what error messages call the streams it takes). */
export function installByteStreamAdapter(name: string, adapt: ByteStreamAdapter): void {
  installed = { name, adapt };
}

function isDuplex(stream: unknown): stream is Duplex {
  const s = stream as Partial<Duplex> | null;
  return typeof s === 'object' && s !== null && s.readable instanceof ReadableStream && s.writable instanceof WritableStream;
}

/**
 * The Web Streams pair of `stream`: itself when it is one, else the installed adapter's.
 * @throws SshError naming what was given and what is accepted
 */
export function toDuplex(stream: ByteStream): Duplex {
  if (isDuplex(stream)) return stream;
  const adapted = installed?.adapt(stream as NativeByteStream);
  if (adapted !== undefined) return adapted;
  const given = typeof stream === 'object' && stream !== null ? (stream.constructor?.name ?? 'object') : typeof stream;
  const accepted = installed === undefined ? '' : ` or ${installed.name}`;
  throw new SshError(`connect() needs a { readable, writable } pair of Web Streams${accepted}; got ${given}`);
}
