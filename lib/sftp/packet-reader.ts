/**
 * The SFTP packet frame (draft-ietf-secsh-filexfer-02 §3) on the inbound side: channel data in,
 * whole payloads (type byte first) out. Sans-I/O. A payload that sits inside one chunk is returned
 * as a view of it; one split across chunks is assembled once. Lengths above `maxLength` are refused
 * before anything is buffered, so a peer cannot make us hold more than one packet's worth.
 */
import { ProtocolError } from '../errors.js';
import { concatBytes } from '../codec/wire.js';

/** Frames SFTP packets out of a byte stream. */
export class SftpPacketReader {
  readonly #maxLength: number;
  /** Bytes of the packet being assembled (length prefix included), when it spans chunks. */
  #partial: Uint8Array[] = [];
  #partialLength = 0;

  /** @param maxLength the largest `length` field accepted (payload bytes, type byte included) */
  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  /** Bytes held for a packet not yet complete. */
  get buffered(): number {
    return this.#partialLength;
  }

  /**
   * Feeds one chunk of the byte stream.
   * @returns the payloads completed by it, in order
   * @throws ProtocolError when a length is 0 or above the maximum
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let bytes = chunk;
    if (this.#partialLength > 0) {
      // Pieces of a large packet are only collected until the whole packet is there: one copy, not one per chunk.
      const needed = this.#partialLength >= 4 ? 4 + this.#heldLength() : 4;
      if (this.#partialLength + chunk.length < needed) {
        this.#partial.push(chunk);
        this.#partialLength += chunk.length;
        return out;
      }
      bytes = concatBytes(...this.#partial, chunk);
      this.#partial = [];
      this.#partialLength = 0;
    }
    let offset = 0;
    while (bytes.length - offset >= 4) {
      const length = ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
      if (length === 0 || length > this.#maxLength) {
        throw new ProtocolError(`SFTP packet length ${length} at stream offset ${offset} is outside 1..${this.#maxLength}`);
      }
      if (bytes.length - offset - 4 < length) break;
      out.push(bytes.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    if (offset < bytes.length) {
      this.#partial.push(bytes.subarray(offset));
      this.#partialLength = bytes.length - offset;
    }
    return out;
  }

  /** The length field of the packet being assembled (its first 4 bytes are held). */
  #heldLength(): number {
    const head = this.#partial[0]!.length >= 4 ? this.#partial[0]! : concatBytes(...this.#partial);
    return ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  }

  /** @throws ProtocolError when the stream ended inside a packet */
  assertDrained(): void {
    if (this.#partialLength > 0) {
      throw new ProtocolError(`SFTP stream ended inside a packet (${this.#partialLength} bytes of it received)`);
    }
  }
}
