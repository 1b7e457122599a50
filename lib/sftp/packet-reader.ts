/**
 * The SFTP packet frame (draft-ietf-secsh-filexfer-02 §3) on the inbound side: channel data in,
 * whole payloads (type byte first) out. Sans-I/O. A payload that sits inside one chunk is returned
 * as a view of it. One split across chunks is assembled once, except a large packet of the bulk
 * type (DATA for a client, WRITE for a server): that one is handed on as a SplitPayload whose file
 * bytes stay views of the chunks they came in, so a transfer's bytes are never copied here.
 * Lengths above `maxLength` are refused before anything is buffered, so a peer cannot make us hold
 * more than one packet's worth.
 */
import { ProtocolError } from '../errors.js';
import { concatBytes } from '../codec/wire.js';

/** Bytes of a split payload's start always joined into `head` (room for any bulk header). */
export const SPLIT_HEAD = 64;
/** Payloads shorter than this are joined even when of the bulk type: one small copy is cheaper. */
const SPLIT_MIN = 8 * 1024;

/**
 * A payload handed on in pieces: `head` is its first bytes (at least SPLIT_HEAD of them), `rest`
 * the others in order. `length` is the whole payload's.
 */
export interface SplitPayload {
  readonly head: Uint8Array;
  readonly rest: readonly Uint8Array[];
  readonly length: number;
}

/** What the reader returns: a contiguous payload, or a large bulk one in pieces. */
export type SftpPayload = Uint8Array | SplitPayload;

/** The payload as one buffer (copies a split one). */
export function joinPayload(payload: SftpPayload): Uint8Array {
  return payload instanceof Uint8Array ? payload : concatBytes(payload.head, ...payload.rest);
}

/** Options of SftpPacketReader. */
export interface SftpPacketReaderOptions {
  /** The packet type whose large payloads come out as SplitPayload (default: none). */
  splitType?: number;
}

/**
 * Frames SFTP packets out of a byte stream. `P` is SftpPayload when `splitType` is given (then
 * payloads may come split), Uint8Array otherwise.
 */
export class SftpPacketReader<P extends SftpPayload = Uint8Array> {
  readonly #maxLength: number;
  readonly #splitType: number;
  /** Pieces of the packet being assembled (length prefix included), when it spans chunks. */
  #pieces: Uint8Array[] = [];
  #held = 0;
  /** 4 + length of the packet being assembled, once its length field is held; else 0. */
  #needed = 0;

  /** @param maxLength the largest `length` field accepted (payload bytes, type byte included) */
  constructor(maxLength: number, options: SftpPacketReaderOptions = {}) {
    this.#maxLength = maxLength;
    this.#splitType = options.splitType ?? -1;
  }

  /** Bytes held for a packet not yet complete. */
  get buffered(): number {
    return this.#held;
  }

  /**
   * Feeds one chunk of the byte stream; the chunk must not be changed afterwards (payloads are views of it).
   * @returns the payloads completed by it, in order
   * @throws ProtocolError when a length is 0 or above the maximum
   */
  push(chunk: Uint8Array): P[] {
    const out: SftpPayload[] = [];
    let offset = 0;
    if (this.#held > 0) {
      if (this.#needed === 0) {
        if (this.#held + chunk.length < 4) {
          this.#hold(chunk);
          return out as P[];
        }
        this.#needed = 4 + this.#checkLength(this.#lengthAcross(chunk), 0);
      }
      offset = Math.min(chunk.length, this.#needed - this.#held);
      this.#hold(chunk.subarray(0, offset));
      if (this.#held < this.#needed) return out as P[];
      out.push(this.#assemble());
    }
    while (chunk.length - offset >= 4) {
      const length = this.#checkLength(readUint32(chunk, offset), offset);
      if (chunk.length - offset - 4 < length) break;
      out.push(chunk.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    if (offset < chunk.length) {
      this.#hold(chunk.subarray(offset));
      if (this.#held >= 4) this.#needed = 4 + readUint32(chunk, offset);
    }
    return out as P[];
  }

  /** @throws ProtocolError when the stream ended inside a packet */
  assertDrained(): void {
    if (this.#held > 0) {
      throw new ProtocolError(`SFTP stream ended inside a packet (${this.#held} bytes of it received)`);
    }
  }

  #checkLength(length: number, offset: number): number {
    if (length === 0 || length > this.#maxLength) {
      throw new ProtocolError(`SFTP packet length ${length} at stream offset ${offset} is outside 1..${this.#maxLength}`);
    }
    return length;
  }

  #hold(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#pieces.push(bytes);
    this.#held += bytes.length;
  }

  /** The length field when its 4 bytes are spread over the held pieces and `next`. */
  #lengthAcross(next: Uint8Array): number {
    const head = concatBytes(...this.#pieces, next.subarray(0, 4 - this.#held));
    return readUint32(head, 0);
  }

  /** The complete packet held in pieces, as a payload; resets the held state. */
  #assemble(): SftpPayload {
    const pieces = this.#pieces;
    const length = this.#needed - 4;
    this.#pieces = [];
    this.#held = 0;
    this.#needed = 0;
    // Drop the length field from the front of the pieces.
    let skip = 4;
    while (pieces[0]!.length <= skip) skip -= pieces.shift()!.length;
    pieces[0] = pieces[0]!.subarray(skip);
    if (length < SPLIT_MIN || pieces[0]![0] !== this.#splitType) return concatBytes(...pieces);
    const head: Uint8Array[] = [];
    let headLength = 0;
    while (headLength < SPLIT_HEAD) {
      const piece = pieces.shift()!;
      const take = headLength === 0 ? piece.length : Math.min(piece.length, SPLIT_HEAD - headLength);
      head.push(piece.subarray(0, take));
      headLength += take;
      if (take < piece.length) pieces.unshift(piece.subarray(take));
    }
    return { head: head.length === 1 ? head[0]! : concatBytes(...head), rest: pieces, length };
  }
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}
