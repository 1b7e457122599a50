/**
 * RFC 4253 §6 binary packet protocol, inbound: framing, MAC/tag check, decryption and sequence
 * numbers in one stage, because the packet length may itself be encrypted. Keys switch exactly
 * after the NEWKEYS packet (§7.3); under strict kex the sequence number resets there too.
 * Decompression (§6.2), once running, is the last step, bounded by the maximum packet length.
 * Message meaning is not its business: it yields payloads.
 */
import { DisconnectReason, ProtocolError } from '../errors.js';
import type { OpeningKey } from '../cipher/types.js';
import { allocate } from '../codec/messages/connection.js';
import { CompressionSwitch } from '../compression/compression-switch.js';
import { PayloadDecompressor } from '../compression/payload-compression.js';
import type { PrepareKeysOptions } from './packet-writer.js';

const NEWKEYS = 21;
/** RFC 4253 §6.1: implementations must accept packets of at least 35000 bytes. */
export const MIN_MAX_PACKET_LENGTH = 35000;
/** The join buffer starts at what one 64 KiB CHANNEL_DATA packet needs and grows to the largest packet seen. */
const JOINED_MIN_SIZE = 64 * 1024 + 256;

/** Options of a PacketReader. */
export interface PacketReaderOptions {
  /** The strategy in force before the first NEWKEYS (the `none` cipher). */
  opening: OpeningKey;
  /** Largest `packet_length` accepted (at least 35000). */
  maxPacketLength: number;
}

/** Sans-I/O packet reader: push ciphertext, pull payloads one at a time. */
export class PacketReader {
  #opening: OpeningKey;
  #next: OpeningKey | undefined;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /**
   * Where a packet split across received chunks is joined. Opening keys return fresh plaintext,
   * so the next split packet can reuse it; a key that returns a view into it (`none`) hands it over.
   */
  #joined: Uint8Array = new Uint8Array(0);
  /** `packet_length` of the packet being read, once its prefix was decrypted. */
  #length = -1;
  #awaitingKeys = false;
  #keysWaiter: (() => void) | undefined;
  #resetAtNewKeys = false;
  readonly #maxPacketLength: number;
  readonly #compression: CompressionSwitch<PayloadDecompressor>;
  /** The running decompressor: the one check the uncompressed path pays per packet. */
  #decompressor: PayloadDecompressor | undefined;
  /** Sequence number of the next packet (RFC 4253 §6.4), modulo 2^32. */
  sequence = 0;
  /** Packets read since the last key switch, and bytes (for re-key thresholds). */
  packetsSinceKeys = 0;
  bytesSinceKeys = 0;
  /** Totals for metrics. */
  totalPackets = 0;
  totalBytes = 0;

  constructor(options: PacketReaderOptions) {
    if (options.maxPacketLength < MIN_MAX_PACKET_LENGTH) {
      throw new RangeError(`maxPacketLength ${options.maxPacketLength} is below the RFC minimum of 35000`);
    }
    this.#opening = options.opening;
    const maxPacketLength = options.maxPacketLength;
    this.#maxPacketLength = maxPacketLength;
    // A payload is shorter than its packet, so no honest packet inflates past this.
    this.#compression = new CompressionSwitch(() => new PayloadDecompressor(maxPacketLength));
  }

  /** True after a NEWKEYS passed with no keys prepared: nothing more can be read until `prepareKeys`. */
  get awaitingKeys(): boolean {
    return this.#awaitingKeys;
  }

  /** Bytes received but not yet consumed as packets. */
  get buffered(): number {
    return this.#buffered;
  }

  /** The compression name in force for inbound packets (it may wait for authentication). */
  get compression(): string {
    return this.#compression.name;
  }

  /** True while inbound payloads are being decompressed. */
  get isDecompressing(): boolean {
    return this.#decompressor !== undefined;
  }

  /** OpenSSH PROTOCOL §2: authentication succeeded; `zlib@openssh.com` inflates from the next packet. */
  startDelayedCompression(): void {
    this.#decompressor = this.#compression.authenticationSucceeded();
  }

  /** RFC 4253 §7.3: keys (and compression) that take effect right after the next inbound NEWKEYS. */
  prepareKeys(next: OpeningKey, options: PrepareKeysOptions = {}): void {
    this.#next = next;
    this.#resetAtNewKeys = options.resetSequence ?? false;
    this.#compression.prepare(options.compression ?? 'none');
    if (this.#awaitingKeys) this.#switchKeys();
    this.#keysWaiter?.();
    this.#keysWaiter = undefined;
  }

  /** Resolves once `prepareKeys` was called (immediately when no NEWKEYS is waiting for keys). */
  keysPrepared(): Promise<void> {
    if (!this.#awaitingKeys) return Promise.resolve();
    return new Promise((resolve) => (this.#keysWaiter = resolve));
  }

  /** Feeds received bytes. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#buffered += bytes.length;
  }

  /** Returns the next complete payload, or undefined when more bytes (or keys) are needed. */
  next(): Uint8Array | undefined {
    if (this.#awaitingKeys) return undefined;
    const opening = this.#opening;
    if (this.#length < 0) {
      if (this.#buffered < opening.lengthPrefixBytes) return undefined;
      const prefix = this.#peek(opening.lengthPrefixBytes);
      const length = opening.decryptLength(this.sequence, prefix);
      if (length < 5 || length > this.#maxPacketLength) {
        throw new ProtocolError(
          `Packet length ${length} out of range (5..${this.#maxPacketLength})`,
          DisconnectReason.protocolError,
        );
      }
      this.#length = length;
    }
    const total = 4 + this.#length + opening.tagLength;
    if (this.#buffered < total) return undefined;
    const packet = this.#take(total);
    const plain = opening.open(this.sequence, packet);
    if (plain.buffer === this.#joined.buffer) this.#joined = new Uint8Array(0);
    const paddingLength = plain[0]!;
    const payloadLength = this.#length - paddingLength - 1;
    if (paddingLength < 4 || payloadLength < 1) {
      throw new ProtocolError(
        `Invalid padding length ${paddingLength} in packet of length ${this.#length}`,
        DisconnectReason.protocolError,
      );
    }
    this.#length = -1;
    this.sequence = (this.sequence + 1) >>> 0;
    this.packetsSinceKeys++;
    this.bytesSinceKeys += total;
    this.totalPackets++;
    this.totalBytes += total;
    let payload = plain.subarray(1, 1 + payloadLength);
    if (this.#decompressor !== undefined) payload = this.#decompressor.decompress(payload);
    if (payload[0] === NEWKEYS) {
      if (this.#next) this.#switchKeys();
      else this.#awaitingKeys = true;
    }
    return payload;
  }

  /** The stream ended: a half-read packet is an error. */
  assertDrained(): void {
    if (this.#buffered > 0) {
      throw new ProtocolError(
        `Connection ended inside a packet (${this.#buffered} bytes pending)`,
        DisconnectReason.connectionLost,
      );
    }
  }

  /** Wipes key material. */
  destroy(): void {
    this.#opening.destroy();
    this.#next?.destroy();
    this.#compression.destroy();
    this.#decompressor = undefined;
    this.#chunks = [];
    this.#buffered = 0;
  }

  #switchKeys(): void {
    this.#opening.destroy();
    this.#opening = this.#next!;
    this.#next = undefined;
    this.#decompressor = this.#compression.switchKeys();
    this.#awaitingKeys = false;
    if (this.#resetAtNewKeys) this.sequence = 0;
    this.packetsSinceKeys = 0;
    this.bytesSinceKeys = 0;
  }

  /** The first `n` buffered bytes, contiguous (copied only when they span chunks). */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const chunk of this.#chunks) {
      const take = Math.min(chunk.length, n - at);
      out.set(chunk.subarray(0, take), at);
      at += take;
      if (at === n) break;
    }
    return out;
  }

  /** Removes and returns the first `n` buffered bytes, contiguous (valid until the next call). */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    if (this.#joined.length < n) this.#joined = allocate(Math.max(n, JOINED_MIN_SIZE));
    const out = this.#joined.subarray(0, n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.length, n - at);
      out.set(chunk.subarray(0, take), at);
      at += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    return out;
  }
}

/**
 * Wraps a PacketReader as a TransformStream of ciphertext chunks to payloads. After a NEWKEYS
 * without prepared keys it waits for `prepareKeys` (called by whoever consumes the payloads).
 */
export function createPacketReaderStream(reader: PacketReader): TransformStream<Uint8Array, Uint8Array> {
  const drain = async (controller: TransformStreamDefaultController<Uint8Array>): Promise<void> => {
    for (;;) {
      let payload: Uint8Array | undefined;
      while ((payload = reader.next()) !== undefined) controller.enqueue(payload);
      if (!reader.awaitingKeys || reader.buffered === 0) return;
      // The consumer sees NEWKEYS and the messages before it, which prepare the keys.
      await reader.keysPrepared();
    }
  };
  const transformer: Transformer<Uint8Array, Uint8Array> & { cancel(): void } = {
    transform: async (chunk, controller) => {
      reader.push(chunk);
      await drain(controller);
    },
    flush: () => reader.assertDrained(),
    cancel: () => reader.destroy(),
  };
  return new TransformStream<Uint8Array, Uint8Array>(
    transformer,
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    new CountQueuingStrategy({ highWaterMark: 16 }),
  );
}
