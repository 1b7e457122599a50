/**
 * RFC 4253 §6.2 zlib compression of packet payloads, one direction each: a deflate stream that
 * runs on across packets, each packet ended with a partial flush, and an inflate stream whose
 * output per packet is bounded (a decompression bomb or corrupt data is a ProtocolError with
 * COMPRESSION_ERROR). When compression starts and restarts belongs to `compression-switch.ts`.
 */
import { DisconnectReason, ProtocolError } from '../errors.js';
import { allocate } from '../codec/messages/connection.js';
import { ZlibFlush, createZlib } from './zlib-engine.js';
import type { ZlibEngine } from './zlib-engine.js';

/** OpenSSH compresses at level 6 (packet.c); so do we, for the same speed/ratio trade. */
const LEVEL = 6;
/** Output buffers start at one default channel packet and grow to the largest payload seen. */
const INITIAL_OUTPUT_SIZE = 64 * 1024;

/** Outbound: compresses each payload into the direction's continuous zlib stream. */
export class PayloadCompressor {
  readonly #zlib: ZlibEngine = createZlib('deflate', { level: LEVEL, initialOutputSize: INITIAL_OUTPUT_SIZE });

  /**
   * RFC 4253 §6.2: compresses one payload, ending it with a partial flush so the peer can
   * inflate all of it from this packet alone (given the packets before it).
   * @param payload - the uncompressed payload (left untouched)
   * @returns the compressed payload, a view valid until the next call (the packet writer copies it)
   */
  compress(payload: Uint8Array): Uint8Array {
    // Stored blocks bound deflate's growth to a few bytes per 16 KiB; the margin is generous.
    return this.#zlib.process(payload, ZlibFlush.partial, payload.length + (payload.length >>> 3) + 1024);
  }

  /** Frees the zlib state. */
  destroy(): void {
    this.#zlib.close();
  }
}

/** Inbound: inflates each payload from the direction's continuous zlib stream, bounded. */
export class PayloadDecompressor {
  readonly #zlib: ZlibEngine = createZlib('inflate', { initialOutputSize: INITIAL_OUTPUT_SIZE });
  readonly #maxPayloadLength: number;

  /** @param maxPayloadLength - the most bytes one packet may inflate to */
  constructor(maxPayloadLength: number) {
    this.#maxPayloadLength = maxPayloadLength;
  }

  /**
   * RFC 4253 §6.2: inflates one packet's payload. Sync flush drains the inflater at the packet's
   * end; it reads a sender's partial flush (OpenSSH inflates with Z_SYNC_FLUSH too).
   * @param compressed - the payload as it came out of the packet
   * @returns the payload, in a buffer of its own (consumers keep views of it)
   * @throws ProtocolError (COMPRESSION_ERROR) on corrupt data, an empty result, or a result
   *   longer than the maximum payload length
   */
  decompress(compressed: Uint8Array): Uint8Array {
    const inflated = this.#zlib.process(compressed, ZlibFlush.sync, this.#maxPayloadLength);
    if (inflated.length === 0) {
      throw new ProtocolError(
        `Compressed payload of ${compressed.length} bytes inflated to nothing`,
        DisconnectReason.compressionError,
      );
    }
    const payload = allocate(inflated.length);
    payload.set(inflated);
    return payload;
  }

  /** Frees the zlib state. */
  destroy(): void {
    this.#zlib.close();
  }
}
