/**
 * The outbound data path of one channel (RFC 4254 §5.2): slices writes to min(peer max packet,
 * peer window), parks at a zero window, and coalesces small writes into one packet while the
 * previous packet is still in flight (so an idle link sends at once and a busy one sends fewer,
 * fuller packets). Each packet is encoded once, into a buffer the packet writer seals in place.
 * Owns no stream: Channel wires it.
 */
import { ChannelClosedError } from '../errors.js';
import {
  channelDataHeaderLength,
  encodeChannelData,
  encodeChannelExtendedData,
  sealChannelData,
} from '../codec/messages/connection.js';
import { allocatePayload } from '../transport/packet-writer.js';
import type { OutboundWindow } from './window.js';

/** Largest pending packet used to coalesce small writes. */
const coalesceLimit = 32 * 1024;

/** Sends one channel's data and extended data within the peer's window. */
export class ChannelSender {
  readonly #window: OutboundWindow;
  readonly #recipient: number;
  readonly #link: { send(payload: Uint8Array): Promise<void> };
  readonly #capacity: number;
  /** Packet being filled by small writes; data starts at offset 9. */
  #pending: Uint8Array | undefined;
  #pendingLength = 0;
  #pump: Promise<void> | undefined;
  #error: unknown;

  /** `link.send` queues one payload and resolves when the transport can take more. */
  constructor(options: { window: OutboundWindow; recipient: number; link: { send(payload: Uint8Array): Promise<void> } }) {
    this.#window = options.window;
    this.#recipient = options.recipient;
    this.#link = options.link;
    this.#capacity = Math.max(1, Math.min(options.window.maxPacket, coalesceLimit));
  }

  /** Queues `chunk` as CHANNEL_DATA; resolves when the caller may write again (backpressure). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    if (chunk.length === 0) return;
    if (this.#pendingLength + chunk.length <= this.#capacity) {
      this.#pending ??= allocatePayload(channelDataHeaderLength + this.#capacity);
      this.#pending.set(chunk, channelDataHeaderLength + this.#pendingLength);
      this.#pendingLength += chunk.length;
      this.#pump ??= this.#runPump();
      // Resolve at once only while the data can go out: a full packet, or one the peer window
      // cannot take yet, waits for the pump (the backpressure of small writes).
      if (this.#pendingLength === this.#capacity || this.#pendingLength > this.#window.available) await this.flush();
      return;
    }
    await this.flush();
    await this.#sendDirect(chunk, undefined);
  }

  /** Sends `chunk` as CHANNEL_EXTENDED_DATA with `dataTypeCode` (1 = stderr), after pending data. */
  async writeExtended(chunk: Uint8Array, dataTypeCode: number): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    await this.flush();
    await this.#sendDirect(chunk, dataTypeCode);
  }

  /** RFC 4254 §5.2: the peer granted more window. */
  windowAdjusted(bytesToAdd: number, channel: number): void {
    this.#window.add(bytesToAdd, channel);
  }

  /** Resolves once every coalesced byte has been handed to the transport. */
  async flush(): Promise<void> {
    while (this.#pump !== undefined) await this.#pump;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Drops pending data; later writes reject with `error`. */
  fail(error: unknown = new ChannelClosedError('Channel closed')): void {
    if (this.#error === undefined) this.#error = error;
    this.#pending = undefined;
    this.#pendingLength = 0;
    this.#window.fail(error);
  }

  async #sendDirect(chunk: Uint8Array, dataTypeCode: number | undefined): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      await this.#window.ready();
      if (this.#error !== undefined) throw this.#error;
      const n = this.#window.take(chunk.length - at);
      const slice = chunk.subarray(at, at + n);
      at += n;
      await this.#link.send(dataTypeCode === undefined ? this.#channelData(slice) : encodeChannelExtendedData(this.#recipient, dataTypeCode, slice));
    }
  }

  /** RFC 4254 §5.2: CHANNEL_DATA built where the packet writer can seal it without another copy. */
  #channelData(data: Uint8Array): Uint8Array {
    const payload = allocatePayload(channelDataHeaderLength + data.length);
    payload.set(data, channelDataHeaderLength);
    return sealChannelData(payload, this.#recipient, data.length);
  }

  async #runPump(): Promise<void> {
    try {
      while (this.#pendingLength > 0) {
        await this.#window.ready();
        if (this.#error !== undefined) return;
        const pending = this.#pending!;
        const n = this.#window.take(this.#pendingLength);
        let packet: Uint8Array;
        if (n === this.#pendingLength) {
          packet = sealChannelData(pending, this.#recipient, n);
          this.#pending = undefined;
          this.#pendingLength = 0;
        } else {
          // The window is shorter than what is pending: send its worth, keep the rest in place.
          packet = encodeChannelData(this.#recipient, pending.subarray(channelDataHeaderLength, channelDataHeaderLength + n));
          pending.copyWithin(channelDataHeaderLength, channelDataHeaderLength + n, channelDataHeaderLength + this.#pendingLength);
          this.#pendingLength -= n;
        }
        await this.#link.send(packet);
      }
    } catch (error) {
      if (this.#error === undefined) this.#error = error;
    } finally {
      this.#pump = undefined;
    }
  }
}
