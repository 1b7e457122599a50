/**
 * RFC 4253 §6 binary packet protocol, outbound: padding, sealing (encrypt + MAC or AEAD) and
 * sequence numbers. Keys switch right after the NEWKEYS packet is sealed (§7.3); under strict kex
 * the sequence number resets there. One buffer per packet, sized up front; a payload built in a
 * buffer from `allocatePayload` is sealed where it lies, without being copied, or — with a cipher
 * whose output is fresh memory anyway (node:crypto's AES-GCM and ChaCha20) — sealed into pieces
 * while its buffer goes back for the next payload. Compression (§6.2), once running, sits in front of padding: the
 * compressed copy is what gets sealed.
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
/** Payload buffers at least this large are sealed into pieces and used again (see `spareBuffers`). */
const REUSE_MIN = 8 * 1024;
/** Most buffers kept for reuse: a sender fills one while the one before it is being sealed. */
const SPARE_LIMIT = 8;
/**
 * Packet buffers whose payload was sealed into fresh pieces (`SealingKey.sealPieces`), ready for the
 * next large payload: allocating a 32-64 KiB buffer per packet costs more than copying the data into
 * it (measured on Node 20: 4-14 µs against under 1), and V8 runs a young collection for every
 * 32 MB of such buffers. Shared by every session of the process; a reused buffer still holds the
 * bytes of an earlier packet, but only what a payload writes (and the padding and tag written
 * around it) is ever sealed.
 */
const spareBuffers: ArrayBuffer[] = [];

/**
 * A payload buffer of `length` bytes with room for the packet around it, so that
 * `PacketWriter.write` seals it in place instead of copying it into a packet. The payload belongs
 * to the writer once written: sealing encrypts it where it lies, or (with a cipher that seals into
 * pieces) the buffer is taken back for another payload.
 */
export function allocatePayload(length: number): Uint8Array {
  const total = HEADROOM + length + TAILROOM;
  let buffer: ArrayBuffer | undefined;
  if (total >= REUSE_MIN) {
    for (let i = spareBuffers.length - 1; i >= 0; i--) {
      const spare = spareBuffers[i]!;
      if (spare.byteLength >= total && spare.byteLength <= 2 * total) {
        buffer = spare;
        spareBuffers.splice(i, 1);
        break;
      }
    }
  }
  buffer ??= allocate(total).buffer as ArrayBuffer;
  sealableInPlace.add(buffer);
  return new Uint8Array(buffer, HEADROOM, length);
}

/** A sealed packet: one buffer, or pieces to be sent in order. */
export type Wire = Uint8Array | Uint8Array[];

/** Bytes in `wire`. */
export function wireLength(wire: Wire): number {
  if (!Array.isArray(wire)) return wire.length;
  let n = 0;
  for (const piece of wire) n += piece.length;
  return n;
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

  /** RFC 4253 §6: builds and seals one packet around `payload`, as one buffer. */
  write(message: Uint8Array): Uint8Array {
    return this.#write(message, false) as Uint8Array;
  }

  /**
   * RFC 4253 §6: `write`, except that a large payload from `allocatePayload` may come back as
   * pieces (see `SealingKey.sealPieces`) while its buffer goes to the next payload.
   */
  writePieces(message: Uint8Array): Wire {
    return this.#write(message, true);
  }

  #write(message: Uint8Array, pieces: boolean): Wire {
    const type = message[0];
    const payload = this.#compressor === undefined ? message : this.#compressor.compress(message);
    const sealing = this.#sealing;
    const block = Math.max(8, sealing.blockSize);
    const unpadded = (sealing.lengthExcludedFromPadding ? 1 : 5) + payload.length;
    let padding = block - (unpadded % block);
    if (padding < 4) padding += block;
    const packetLength = 1 + payload.length + padding;
    const total = 4 + packetLength + sealing.tagLength;
    const inPlace = this.#inPlace(payload, total);
    const packet = inPlace ?? this.#copyIntoPacket(payload, total);
    packet[0] = packetLength >>> 24;
    packet[1] = packetLength >>> 16;
    packet[2] = packetLength >>> 8;
    packet[3] = packetLength;
    packet[4] = padding;
    packet.set(this.#padding(padding), 5 + payload.length);
    let wire: Wire;
    if (pieces && inPlace !== undefined && sealing.sealPieces !== undefined && inPlace.buffer.byteLength >= REUSE_MIN) {
      wire = sealing.sealPieces(this.sequence, packet);
      if (spareBuffers.length < SPARE_LIMIT) spareBuffers.push(inPlace.buffer as ArrayBuffer);
    } else {
      wire = sealing.seal(this.sequence, packet);
    }
    const length = wireLength(wire);
    this.sequence = (this.sequence + 1) >>> 0;
    this.packetsSinceKeys++;
    this.bytesSinceKeys += length;
    this.totalPackets++;
    this.totalBytes += length;
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

  /** The packet around `payload` (at offset 5) in its own buffer, when it came from `allocatePayload` with the room. */
  #inPlace(payload: Uint8Array, total: number): Uint8Array | undefined {
    const buffer = payload.buffer;
    const start = payload.byteOffset - HEADROOM;
    if (start < 0 || start + total > buffer.byteLength || !sealableInPlace.has(buffer)) return undefined;
    // One packet per buffer: once sealed, its bytes are ciphertext (or it is taken back).
    sealableInPlace.delete(buffer);
    return new Uint8Array(buffer, start, total);
  }

  #copyIntoPacket(payload: Uint8Array, total: number): Uint8Array {
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
