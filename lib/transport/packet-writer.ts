/**
 * RFC 4253 §6 binary packet protocol, outbound: padding, sealing (encrypt + MAC or AEAD) and
 * sequence numbers. Keys switch right after the NEWKEYS packet is sealed (§7.3); under strict kex
 * the sequence number resets there. One buffer per packet, sized up front; a payload built in a
 * buffer from `allocatePayload` is sealed where it lies, without being copied. Compression
 * (§6.2), once running, sits in front of padding: the compressed copy is what gets sealed.
 */
import type { SealingKey } from '../cipher/types.js';
import { allocate } from '../codec/messages/connection.js';
import { CompressionSwitch } from '../compression/compression-switch.js';
import { PayloadCompressor } from '../compression/payload-compression.js';

const NEWKEYS = 21;
/**
 * Padding bytes drawn from the random source at once: one call per 4 KiB instead of one per
 * packet, where each call costs as much as sealing a small packet.
 */
const RANDOM_POOL_SIZE = 4096;
/** packet_length and padding_length, in front of the payload. */
const HEADROOM = 5;
/** Room after a payload for the largest padding (16-byte blocks: 19 bytes) and tag (64 bytes). */
const TAILROOM = 96;
/** Buffers from `allocatePayload` not yet sealed: the writer may build the packet around them. */
const sealableInPlace = new WeakSet<ArrayBufferLike>();

/**
 * A payload buffer of `length` bytes with room for the packet around it, so that
 * `PacketWriter.write` seals it in place instead of copying it into a packet. The payload belongs
 * to the writer once written: sealing encrypts it where it lies.
 */
export function allocatePayload(length: number): Uint8Array {
  const buffer = allocate(HEADROOM + length + TAILROOM);
  sealableInPlace.add(buffer.buffer);
  return buffer.subarray(HEADROOM, HEADROOM + length);
}

/** Options of a PacketWriter. */
export interface PacketWriterOptions {
  /** The strategy in force before the first NEWKEYS (the `none` cipher). */
  sealing: SealingKey;
  /** Injected source of random padding. */
  randomBytes: (n: number) => Uint8Array;
}

/** What `prepareKeys` brings into force with the keys, besides them. */
export interface PrepareKeysOptions {
  /** Reset the sequence number at NEWKEYS (strict kex). */
  resetSequence?: boolean;
  /** The negotiated compression name for this direction (default `none`). */
  compression?: string;
}

/** Sans-I/O packet writer: payload in, wire bytes out. */
export class PacketWriter {
  #sealing: SealingKey;
  #next: SealingKey | undefined;
  #resetAtNewKeys = false;
  readonly #compression = new CompressionSwitch(() => new PayloadCompressor());
  /** The running compressor: the one check the uncompressed path pays per packet. */
  #compressor: PayloadCompressor | undefined;
  readonly #randomBytes: (n: number) => Uint8Array;
  #randomPool: Uint8Array = new Uint8Array(0);
  #randomAt = 0;
  /** Sequence number of the next packet (RFC 4253 §6.4), modulo 2^32. */
  sequence = 0;
  packetsSinceKeys = 0;
  bytesSinceKeys = 0;
  totalPackets = 0;
  totalBytes = 0;

  constructor(options: PacketWriterOptions) {
    this.#sealing = options.sealing;
    this.#randomBytes = options.randomBytes;
  }

  /** RFC 4253 §7.3: keys (and compression) that take effect right after the next NEWKEYS we send. */
  prepareKeys(next: SealingKey, options: PrepareKeysOptions = {}): void {
    this.#next = next;
    this.#resetAtNewKeys = options.resetSequence ?? false;
    this.#compression.prepare(options.compression ?? 'none');
  }

  /** The compression name in force for outbound packets (it may wait for authentication). */
  get compression(): string {
    return this.#compression.name;
  }

  /** True while outbound payloads are being compressed. */
  get isCompressing(): boolean {
    return this.#compressor !== undefined;
  }

  /** OpenSSH PROTOCOL §2: authentication succeeded; `zlib@openssh.com` compresses from the next packet. */
  startDelayedCompression(): void {
    this.#compressor = this.#compression.authenticationSucceeded();
  }

  /** RFC 4253 §6: builds and seals one packet around `payload`. */
  write(message: Uint8Array): Uint8Array {
    const type = message[0];
    const payload = this.#compressor === undefined ? message : this.#compressor.compress(message);
    const sealing = this.#sealing;
    const block = Math.max(8, sealing.blockSize);
    const unpadded = (sealing.lengthExcludedFromPadding ? 1 : 5) + payload.length;
    let padding = block - (unpadded % block);
    if (padding < 4) padding += block;
    const packetLength = 1 + payload.length + padding;
    const packet = this.#packetAround(payload, 4 + packetLength + sealing.tagLength);
    packet[0] = packetLength >>> 24;
    packet[1] = packetLength >>> 16;
    packet[2] = packetLength >>> 8;
    packet[3] = packetLength;
    packet[4] = padding;
    packet.set(this.#padding(padding), 5 + payload.length);
    const wire = sealing.seal(this.sequence, packet);
    this.sequence = (this.sequence + 1) >>> 0;
    this.packetsSinceKeys++;
    this.bytesSinceKeys += wire.length;
    this.totalPackets++;
    this.totalBytes += wire.length;
    if (type === NEWKEYS && this.#next) {
      sealing.destroy();
      this.#sealing = this.#next;
      this.#next = undefined;
      this.#compressor = this.#compression.switchKeys();
      if (this.#resetAtNewKeys) this.sequence = 0;
      this.packetsSinceKeys = 0;
      this.bytesSinceKeys = 0;
    }
    return wire;
  }

  /** Wipes key material. */
  destroy(): void {
    this.#sealing.destroy();
    this.#next?.destroy();
    this.#compression.destroy();
    this.#compressor = undefined;
  }

  /** The packet buffer with `payload` at offset 5: around it when it has the room, else a copy. */
  #packetAround(payload: Uint8Array, total: number): Uint8Array {
    const buffer = payload.buffer;
    const start = payload.byteOffset - HEADROOM;
    if (start >= 0 && start + total <= buffer.byteLength && sealableInPlace.has(buffer)) {
      // One packet per buffer: once sealed, its bytes are ciphertext.
      sealableInPlace.delete(buffer);
      return new Uint8Array(buffer, start, total);
    }
    const packet = allocate(total);
    packet.set(payload, HEADROOM);
    return packet;
  }

  /** RFC 4253 §6: `n` (at most 255) random padding bytes, each used once. */
  #padding(n: number): Uint8Array {
    if (this.#randomAt + n > this.#randomPool.length) {
      this.#randomPool = this.#randomBytes(Math.max(RANDOM_POOL_SIZE, n));
      this.#randomAt = 0;
    }
    const bytes = this.#randomPool.subarray(this.#randomAt, this.#randomAt + n);
    this.#randomAt += n;
    return bytes;
  }
}

/** Wraps a PacketWriter as a TransformStream of payloads to wire bytes. */
export function createPacketWriterStream(writer: PacketWriter): TransformStream<Uint8Array, Uint8Array> {
  const transformer: Transformer<Uint8Array, Uint8Array> & { cancel(): void } = {
    transform: (payload, controller) => controller.enqueue(writer.write(payload)),
    cancel: () => writer.destroy(),
  };
  return new TransformStream<Uint8Array, Uint8Array>(
    transformer,
    new CountQueuingStrategy({ highWaterMark: 16 }),
    new ByteLengthQueuingStrategy({ highWaterMark: 256 * 1024 }),
  );
}
