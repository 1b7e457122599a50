/**
 * How a transport ends for good (RFC 4253 §11.1): DISCONNECT sent when we detected the problem,
 * the peer's DISCONNECT read, the one close record, and `closed` settled once (resolved for a
 * clean close, rejected otherwise). Queued bytes drain before the byte stream is let go. A lost
 * stream that may be resumed is not an end: that is `reconnect-link.ts`.
 */
import { DisconnectError, DisconnectReason, ProtocolError, SshError } from '../errors.js';
import { decode, encode } from '../codec/schema.js';
import { Disconnect } from '../codec/messages/transport.js';
import { releaseByteStream } from './byte-stream.js';
import type { Inbound } from './inbound.js';
import type { Outbound } from './outbound.js';
import type { SessionCloseInfo } from './transport-types.js';

/** What a TransportEnd needs from its transport. */
export interface TransportEndHost {
  readonly inbound: Inbound;
  readonly outbound: Outbound;
  /** Everything waiting on the transport fails with `error`; `onClose` sees `info`. */
  ending(info: SessionCloseInfo, error: SshError): void;
}

/** The end of one transport. */
export class TransportEnd {
  /** Settles once when the transport ends: resolves on a clean close, rejects with the error otherwise. */
  readonly closed: Promise<SessionCloseInfo>;
  readonly #host: TransportEndHost;
  #info: SessionCloseInfo | undefined;
  #settle!: (info: SessionCloseInfo) => void;

  constructor(host: TransportEndHost) {
    this.#host = host;
    this.closed = new Promise<SessionCloseInfo>((resolve, reject) => {
      this.#settle = (info) => (info.error ? reject(info.error) : resolve(info));
    });
    // A rejected `closed` must never become an unhandled rejection that kills the process.
    this.closed.catch(() => {});
  }

  /** How the transport ended, once it has. */
  get info(): SessionCloseInfo | undefined {
    return this.#info;
  }

  /** The error a send or re-key after the end rejects with. */
  get error(): SshError {
    return this.#info?.error ?? new SshError('Session is closed');
  }

  /** RFC 4253 §11.1: sends DISCONNECT and ends. */
  close(reason: number, description: string): void {
    if (this.#info) return;
    this.#sendDisconnect(reason, description);
    const error = reason === DisconnectReason.byApplication ? undefined : new DisconnectError(reason, description);
    this.end({ reason, description, error, initiatedBy: 'local' });
  }

  /** RFC 4253 §11.1: the peer's DISCONNECT arrived. */
  peerDisconnected(payload: Uint8Array): void {
    const d = decode(Disconnect, payload);
    const error = d.reasonCode === DisconnectReason.byApplication ? undefined : new DisconnectError(d.reasonCode, d.description);
    this.end({ reason: d.reasonCode, description: d.description, error, initiatedBy: 'remote' });
  }

  /** Ends because of `error`, sending DISCONNECT when we detected a protocol violation. */
  fail(error: unknown): void {
    if (this.#info) return;
    let sshError: SshError;
    if (error instanceof SshError) sshError = error;
    else sshError = new DisconnectError(DisconnectReason.connectionLost, (error as Error)?.message ?? String(error), { cause: error });
    const reason = sshError instanceof ProtocolError ? sshError.reason : sshError instanceof DisconnectError ? sshError.reason : DisconnectReason.connectionLost;
    if (sshError instanceof ProtocolError) this.#sendDisconnect(reason, sshError.message);
    this.end({ reason, description: sshError.message, error: sshError, initiatedBy: sshError instanceof ProtocolError ? 'local' : 'remote' });
  }

  /** Records `info`, fails everything waiting, lets go of the byte stream and settles `closed`. */
  end(info: SessionCloseInfo): void {
    if (this.#info) return;
    this.#info = info;
    const { inbound, outbound } = this.#host;
    const error = info.error ?? new SshError(`Session closed${info.description ? `: ${info.description}` : ''}`);
    outbound.failAll(error);
    try {
      this.#host.ending(info, error);
    } catch {
      // Upper layers must not prevent the transport from closing.
    }
    inbound.reader.destroy();
    outbound.writer.destroy();
    releaseByteStream(outbound.detach(), inbound.detach(), error);
    this.#settle(info);
  }

  #sendDisconnect(reason: number, description: string): void {
    if (!this.#host.outbound.attached || this.#info) return;
    try {
      this.#host.outbound.write(encode(Disconnect, { reasonCode: reason, description, languageTag: '' }));
    } catch {
      // The link may already be gone; the close proceeds regardless.
    }
  }
}
