/**
 * How session reconnection acts on one transport (notes §2.3.1, §2.3.4, §2.3.5): the reconnect
 * state when the config lists the extension, the enable request once EXT_INFO shows both sides
 * want it, and a lost byte stream, which with reconnection negotiated lets go of the stream but
 * keeps the session (messages at the kex gate move to the send cache) until a reconnect or
 * `config.reconnectTimeout`, and otherwise ends the transport. Closing for good (DISCONNECT,
 * `closed`) stays the transport's business.
 */
import { DisconnectError, DisconnectReason, type SshError } from '../errors.js';
import type { SessionConfig } from '../config.js';
import { ProtocolExtensions } from '../algorithms.js';
import type { Inbound } from './inbound.js';
import type { Outbound } from './outbound.js';
import type { SessionCloseInfo } from './transport-types.js';
import { ReconnectState } from './reconnect/reconnect-state.js';
import { encodeEnableReconnect } from './reconnect/messages.js';

/** What a ReconnectLink needs from its transport. */
export interface ReconnectLinkHost {
  readonly inbound: Inbound;
  readonly outbound: Outbound;
  /** True once the transport ended for good. */
  readonly ended: boolean;
  /** True when messages may go out now (no key exchange holds the gate, nothing queued). */
  readonly gateOpen: boolean;
  /** Ends the transport for good because of `error`. */
  fail(error: SshError): void;
  /** Ends the transport for good as `info` says, sending nothing. */
  end(info: SessionCloseInfo): void;
  /** The stream is gone: key exchange timers stop and re-key waiters fail with `error`. */
  abandonExchanges(error: SshError): void;
  /** Tells the session that this connection became reconnectable (`onReconnectEnabled`). */
  enabled(): void;
  /** Tells the session that the stream was lost (`onDisconnected`). */
  disconnected(error: SshError): void;
}

/** Session reconnection on one transport; without the extension configured only `streamFailed` acts. */
export class ReconnectLink {
  /** Reconnect bookkeeping, when configured: the one check the data path pays per packet. */
  readonly state: ReconnectState | undefined;
  readonly #host: ReconnectLinkHost;
  #lostWith: SshError | undefined;
  readonly #timeoutMs: number;
  /** Closes the session when no reconnect came in time (timers of the global scope, so fake timers apply). */
  #deadline: ReturnType<typeof setTimeout> | undefined;
  /** While set, an enable request that falls due waits (see `deferEnable`). */
  #enableDeferred: { due: boolean } | undefined;

  constructor(config: SessionConfig, host: ReconnectLinkHost) {
    this.#host = host;
    this.#timeoutMs = config.reconnectTimeout;
    if (config.protocolExtensions.includes(ProtocolExtensions.sessionReconnect)) {
      this.state = new ReconnectState({ maxCacheSize: config.maxReconnectMessageCacheSize, now: config.now });
    }
  }

  /** The error the stream was lost with, while the session waits for a reconnect. */
  get lostWith(): SshError | undefined {
    return this.#lostWith;
  }

  /** True when a lost stream leaves the session waiting instead of ending it. */
  get survivable(): boolean {
    return this.state?.negotiated === true;
  }

  /** Notes §2.3.1: the peer's EXT_INFO arrived; sends the enable request when both sides want reconnection. */
  extensionsReceived(ours: readonly string[], theirs: ReadonlyMap<string, string>): void {
    const state = this.state;
    if (!state) return;
    if (!state.negotiate(ours, theirs)) return;
    if (this.#enableDeferred) this.#enableDeferred.due = true;
    else this.#enable(state);
  }

  /**
   * Notes §2.3.5: while a client's reconnect request waits for its reply, it sends nothing on the
   * new connection, so both sides can start delayed compression at the reply (OpenSSH PROTOCOL
   * §2 relies on the same silence around USERAUTH_SUCCESS). An enable request that falls due
   * meanwhile goes out when the returned function is called.
   */
  deferEnable(): () => void {
    const deferred = { due: false };
    this.#enableDeferred = deferred;
    return () => {
      if (this.#enableDeferred !== deferred) return;
      this.#enableDeferred = undefined;
      if (deferred.due && !this.#host.ended && !this.#lostWith) this.#enable(this.state!);
    };
  }

  /** Notes §2.3.1: sends the enable request; trailers start with our next packet. */
  #enable(state: ReconnectState): void {
    // Like the reference, reconnection stays off if a re-key already closed the outbound gate.
    if (!this.#host.gateOpen) {
      state.negotiated = false;
      return;
    }
    // The enable request itself goes without trailer; every packet after it has one.
    this.#host.outbound.write(encodeEnableReconnect());
    state.enableOutgoing();
    this.#host.enabled();
  }

  /** The byte stream failed or ended: a disconnection when reconnection is on, else the end. */
  streamFailed(error: unknown): void {
    if (this.#host.ended || this.#lostWith) return;
    const message = (error as Error)?.message ?? String(error);
    const lost = new DisconnectError(DisconnectReason.connectionLost, message, { cause: error });
    if (this.survivable) this.lose(lost, false);
    else this.#host.fail(lost);
  }

  /**
   * Notes §2.3.4: the session outlives the stream. Messages waiting at the kex gate take their
   * sequence numbers and wait in the send cache, as everything sent until a reconnect will.
   * `quiet` skips `onDisconnected`.
   */
  lose(error: SshError, quiet: boolean): void {
    const host = this.#host;
    if (host.ended || this.#lostWith) return;
    this.#lostWith = error;
    const state = this.state!;
    const writer = host.outbound.detach();
    const reader = host.inbound.detach();
    host.outbound.releaseAll((payload) => state.cacheUnsent(payload));
    host.abandonExchanges(error);
    state.latency.disconnected();
    writer?.abort(error).catch(() => {});
    reader?.cancel(error).catch(() => {});
    host.inbound.reader.destroy();
    host.outbound.writer.destroy();
    this.#armDeadline();
    if (!quiet) host.disconnected(error);
  }

  /** The transport ended for good (a reconnect replaced it, or it closed): no deadline any more. */
  stop(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /** Notes §2.3.4 keeps a disconnected session without limit; `reconnectTimeout` bounds the wait. */
  #armDeadline(): void {
    const timeoutMs = this.#timeoutMs;
    if (!(timeoutMs > 0)) return;
    this.#deadline = setTimeout(() => {
      this.#deadline = undefined;
      const description = `Session was not reconnected within ${timeoutMs} ms`;
      const error = new DisconnectError(DisconnectReason.connectionLost, description, { cause: this.#lostWith });
      this.#host.end({ reason: DisconnectReason.connectionLost, description, error, initiatedBy: 'local' });
    }, timeoutMs);
    this.#deadline.unref?.();
  }
}
