/**
 * Watches (and optionally re-frames) one direction of an SSH byte stream while its packets travel
 * in clear: the identification line passes as it is, then each binary packet (RFC 4253 §6) is
 * parsed, until a NEWKEYS switches the direction to a cipher and everything after it passes
 * untouched. Re-framing pads the way the Go edition of Dev Tunnels SSH does, so that
 * `packet_length` alone, not `packet_length + 4`, is a multiple of 8.
 */
import { concatBytes, type ByteDuplex } from './pipes.js';

const NEWKEYS = 21;

/** What one direction carried while in clear. */
export interface CleartextLog {
  /** Message numbers of the cleartext packets, in order. */
  types: number[];
  /** How many of them were aligned as RFC 4253 §6 asks (`packet_length + 4` a multiple of 8). */
  rfcAligned: number;
  /** How many were re-padded the Go edition's way. */
  reframed: number;
  /** Every chunk written through, as handed on (after re-framing). */
  chunks: Uint8Array[];
}

/** Sans-I/O: bytes of one direction in, the same bytes (or re-framed packets) out. */
export class CleartextFraming {
  readonly log: CleartextLog = { types: [], rfcAligned: 0, reframed: 0, chunks: [] };
  #state: 'version' | 'packets' | 'passthrough' = 'version';
  #pending: Uint8Array = new Uint8Array(0);
  readonly #goPadding: boolean;

  constructor(options: { goPadding: boolean }) {
    this.#goPadding = options.goPadding;
  }

  push(chunk: Uint8Array): Uint8Array {
    if (this.#state === 'passthrough') return chunk;
    const input: Uint8Array = concatBytes([this.#pending, chunk]);
    const out: Uint8Array[] = [];
    let at = 0;
    if (this.#state === 'version') {
      const newline = input.indexOf(0x0a);
      if (newline < 0) {
        this.#pending = input;
        return new Uint8Array(0);
      }
      out.push(input.subarray(0, newline + 1));
      at = newline + 1;
      this.#state = 'packets';
    }
    while (this.#state === 'packets' && input.length - at >= 5) {
      const view = new DataView(input.buffer, input.byteOffset + at);
      const packetLength = view.getUint32(0);
      if (input.length - at < 4 + packetLength) break;
      const packet = input.subarray(at, at + 4 + packetLength);
      at += 4 + packetLength;
      const paddingLength = packet[4]!;
      const payload = packet.subarray(5, 4 + packetLength - paddingLength);
      this.log.types.push(payload[0]!);
      if ((packetLength + 4) % 8 === 0) this.log.rfcAligned++;
      out.push(this.#goPadding ? this.#goFrame(payload) : packet);
      if (payload[0] === NEWKEYS) this.#state = 'passthrough';
    }
    out.push(input.subarray(at).slice());
    if (this.#state === 'packets') {
      this.#pending = out.pop()!;
    } else {
      this.#pending = new Uint8Array(0);
    }
    return concatBytes(out);
  }

  /** packet_length alone made a multiple of 8, with at least four bytes of padding. */
  #goFrame(payload: Uint8Array): Uint8Array {
    let padding = 8 - ((1 + payload.length) % 8);
    if (padding < 4) padding += 8;
    const packetLength = 1 + payload.length + padding;
    const packet = new Uint8Array(4 + packetLength);
    new DataView(packet.buffer).setUint32(0, packetLength);
    packet[4] = padding;
    packet.set(payload, 5);
    this.log.reframed++;
    return packet;
  }
}

/**
 * Wraps the write side of `duplex` so that what it sends passes through `framing` first.
 * `hold`, when given, is asked for every chunk: while it returns a promise, that chunk waits for it.
 */
export function framedWrites(
  duplex: ByteDuplex,
  framing: CleartextFraming,
  hold?: (chunk: Uint8Array, log: CleartextLog) => Promise<void> | undefined,
): ByteDuplex {
  const writer = duplex.writable.getWriter();
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      const out = framing.push(chunk);
      if (out.length === 0) return;
      framing.log.chunks.push(out);
      await hold?.(out, framing.log);
      await writer.write(out);
    },
    close: () => writer.close(),
    abort: (reason) => writer.abort(reason),
  });
  return { readable: duplex.readable, writable };
}
