/**
 * The per-packet trailer of the Microsoft session-reconnect and session-latency extensions
 * (Dev Tunnels SSH ProtocolExtensions, notes §2.3.2, §2.4): appended to the end of a message
 * payload, inside encryption and MAC. Pure codec; when a direction carries it is decided by the
 * reconnect state, not here.
 */
import { ProtocolError } from '../../errors.js';
import { allocatePayload } from '../packet-writer.js';

/** uint64 last received sequence. */
export const RECONNECT_TRAILER_LENGTH = 8;
/** uint64 last received sequence, uint32 microseconds since that packet arrived. */
export const LATENCY_TRAILER_LENGTH = 12;
const MAX_UINT32 = 0xffffffff;

/** What a received trailer says. */
export interface Trailer {
  /** Sequence number of the last packet the peer received on this connection. */
  readonly lastReceivedSequence: number;
  /** Microseconds between the peer's last receive and its send (0 without latency). */
  readonly timeSinceLastReceive: number;
}

/**
 * Notes §2.3.2: a copy of `payload` with the trailer after it, in a buffer the packet writer seals
 * in place (so `payload` itself stays intact for the send cache).
 * @param latencyMicros - microseconds since the last receive, or undefined without latency
 */
export function appendTrailer(payload: Uint8Array, lastReceivedSequence: number, latencyMicros?: number): Uint8Array {
  const extra = latencyMicros === undefined ? RECONNECT_TRAILER_LENGTH : LATENCY_TRAILER_LENGTH;
  const out = allocatePayload(payload.length + extra);
  out.set(payload);
  const view = new DataView(out.buffer, out.byteOffset + payload.length, extra);
  view.setBigUint64(0, BigInt(Math.max(0, lastReceivedSequence)));
  if (latencyMicros !== undefined) view.setUint32(8, Math.min(MAX_UINT32, Math.max(0, Math.round(latencyMicros))));
  return out;
}

/**
 * Notes §2.3.2: splits a received payload into the message and its trailer.
 * @throws ProtocolError when the payload is too short to hold a message and the trailer
 */
export function splitTrailer(payload: Uint8Array, withLatency: boolean): { message: Uint8Array; trailer: Trailer } {
  const extra = withLatency ? LATENCY_TRAILER_LENGTH : RECONNECT_TRAILER_LENGTH;
  const end = payload.length - extra;
  if (end < 1) throw new ProtocolError(`Payload of ${payload.length} bytes cannot hold a ${extra}-byte reconnect trailer`);
  const view = new DataView(payload.buffer, payload.byteOffset + end, extra);
  const trailer: Trailer = {
    lastReceivedSequence: Number(view.getBigUint64(0)),
    timeSinceLastReceive: withLatency ? view.getUint32(8) : 0,
  };
  return { message: payload.subarray(0, end), trailer };
}
