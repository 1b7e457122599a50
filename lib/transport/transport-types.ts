/**
 * The shapes a Transport shares with the layers above it: the byte stream it runs over, how a
 * session ended, its options and counters. Types only.
 */
import type { SshError } from '../errors.js';
import type { SessionConfig } from '../config.js';
import type { MaybeCertifiedKey } from '../keys/certified-key.js';
import type { Tracer } from '../trace/tracer.js';

/** The duplex byte stream a session runs over. A Channel is one too. */
export interface Duplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** How and why a session ended. */
export interface SessionCloseInfo {
  /** RFC 4253 §11.1 reason code. */
  readonly reason: number;
  readonly description: string;
  /** The error that ended the session, when it was not a clean close. */
  readonly error?: SshError;
  /** Who ended it. */
  readonly initiatedBy: 'local' | 'remote';
}

/** Options of a Transport. */
export interface TransportOptions {
  isServer: boolean;
  config: SessionConfig;
  hostKeys?: readonly MaybeCertifiedKey[];
  /** Diagnostics of the session (present only when `config.trace` is on). */
  tracer?: Tracer | undefined;
}

/** Counters of one transport. */
export interface TransportMetrics {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  keyExchanges: number;
}
