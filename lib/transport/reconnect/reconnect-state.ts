/**
 * The reconnect state of one transport connection (notes §2.3.1-2.3.3, §2.4): packet sequence
 * counters of both directions, whether each direction carries the trailer, the send cache, and
 * latency samples. The transport calls `outbound` for every packet it writes and `inbound` for
 * every packet it reads; the session moves the cache's content to a new connection on reconnect.
 */
import { ProtocolExtensions } from '../../algorithms.js';
import { MessageType } from '../../codec/messages/transport.js';
import { SendCache } from './send-cache.js';
import { LatencyStats } from './latency.js';
import { appendTrailer, splitTrailer } from './trailer.js';
import { isEnableReconnect } from './messages.js';

/** Options of a ReconnectState. */
export interface ReconnectStateOptions {
  /** Most sent messages kept for replay (config.maxReconnectMessageCacheSize). */
  maxCacheSize: number;
  /** Monotonic clock in milliseconds. */
  now: () => number;
}

/** Per-connection reconnect bookkeeping. */
export class ReconnectState {
  readonly cache: SendCache;
  readonly latency = new LatencyStats();
  readonly #now: () => number;
  /** Both sides announced session-reconnect in EXT_INFO: a lost stream disconnects, not closes. */
  negotiated = false;
  #latencyNegotiated = false;
  /** Our packets carry the trailer (after we sent the enable request). */
  #outgoing = false;
  #outgoingLatency = false;
  /** The peer's packets carry the trailer (after its enable request). */
  #incoming = false;
  #incomingLatency = false;
  /** Sent messages are kept in the cache. */
  #recording = false;
  /** Packets written and read on this connection (sequence of the next one, 64-bit). */
  #outboundCount = 0;
  #inboundCount = 0;
  #lastReceiveTime = 0;

  constructor(options: ReconnectStateOptions) {
    this.cache = new SendCache(options.maxCacheSize);
    this.#now = options.now;
  }

  /** Sequence number of the last packet received on this connection. */
  get lastReceivedSequence(): number {
    return this.#inboundCount - 1;
  }

  /** True once our packets carry the trailer. */
  get outgoing(): boolean {
    return this.#outgoing;
  }

  /** True once the peer's packets carry the trailer. */
  get incoming(): boolean {
    return this.#incoming;
  }

  /**
   * Notes §2.1, §2.3.1: the peer's EXT_INFO arrived; returns true when both sides listed
   * session-reconnect, so the enable request is to be sent.
   */
  negotiate(ours: readonly string[], theirs: ReadonlyMap<string, string>): boolean {
    const both = (name: string): boolean => ours.includes(name) && theirs.has(name);
    this.negotiated = both(ProtocolExtensions.sessionReconnect);
    this.#latencyNegotiated = this.negotiated && both(ProtocolExtensions.sessionLatency);
    return this.negotiated;
  }

  /** Notes §2.3.1: the enable request went out; from the next packet on ours carry the trailer. */
  enableOutgoing(): void {
    this.#outgoing = true;
    this.#outgoingLatency = this.#latencyNegotiated;
    this.#recording = true;
  }

  /** This connection replaces a lost one: keep what is sent from now on, whatever EXT_INFO says later. */
  resume(): void {
    this.negotiated = true;
    this.#recording = true;
  }

  /** Called for every packet about to be written: caches it and returns what to seal. */
  outbound(payload: Uint8Array): Uint8Array {
    const sequence = this.#outboundCount++;
    const wire = this.#outgoing
      ? appendTrailer(payload, this.#inboundCount - 1, this.#outgoingLatency ? (this.#now() - this.#lastReceiveTime) * 1000 : undefined)
      : payload;
    // With a trailer the packet is sealed in a copy, so the cache may keep `payload` itself;
    // without one the writer encrypts `payload` where it lies, so the cache needs a copy.
    if (this.#recording) this.cache.add(sequence, wire === payload ? payload.slice() : payload, this.#now());
    return wire;
  }

  /** Notes §2.3.4: a message sent while disconnected takes the next sequence and waits in the cache. */
  cacheUnsent(payload: Uint8Array): void {
    this.cache.add(this.#outboundCount++, payload, this.#now());
  }

  /**
   * Called for every packet read: strips and applies the trailer. Returns the message, or
   * undefined when the packet was an enable request (consumed here).
   */
  inbound(payload: Uint8Array): Uint8Array | undefined {
    this.#inboundCount++;
    const receivedAt = this.#now();
    this.#lastReceiveTime = receivedAt;
    let message = payload;
    if (this.#incoming) {
      const split = splitTrailer(payload, this.#incomingLatency);
      message = split.message;
      const sentAt = this.cache.acknowledge(split.trailer.lastReceivedSequence);
      if (this.#incomingLatency && sentAt !== undefined) {
        this.latency.record(receivedAt - sentAt - split.trailer.timeSinceLastReceive / 1000);
      }
    }
    if (message[0] === MessageType.GlobalRequest && isEnableReconnect(message)) {
      // Duplicates (a peer may re-send one after each reconnect) change nothing.
      if (!this.#incoming) {
        this.#incoming = true;
        this.#incomingLatency = this.#latencyNegotiated;
      }
      return undefined;
    }
    return message;
  }
}
