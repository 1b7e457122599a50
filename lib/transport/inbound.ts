/**
 * The inbound half of a transport connection (RFC 4253 §6, §7, §11): the read loop over the byte
 * stream, the packet reader, and the gate every message passes before it is handled: reconnect
 * trailers stripped (notes §2.3.2), strict-kex and kex-phase rules (OpenSSH PROTOCOL §1.10, RFC
 * 4253 §7.1), transport messages told apart from the rest. What a message means is the host's.
 */
import { DisconnectError, DisconnectReason, ProtocolError, SshError } from '../errors.js';
import { MessageType } from '../codec/messages/transport.js';
import type { PacketReader } from './packet-reader.js';
import type { Handshake } from './handshake.js';
import type { ReconnectState } from './reconnect/reconnect-state.js';
import type { Tracer } from '../trace/tracer.js';

const TRANSPORT_MAX = MessageType.KexMethodLast;

/** What an Inbound hands its transport. */
export interface InboundHost {
  readonly isServer: boolean;
  readonly strictKex: boolean;
  readonly handshake: Handshake;
  /** True once the transport ended: reading stops. */
  readonly ended: boolean;
  /** The byte stream failed or ended. */
  streamFailed(error: unknown): void;
  /** A message violated the protocol (or handling it threw). */
  fail(error: unknown): void;
  /** Room for a byte-count re-key after a batch of packets. */
  maybeRekey(): void;
  /** A promise to wait on before reading more, while too much output waits for the peer. */
  outboundBackpressure(): Promise<void> | undefined;
  /** RFC 4253 §11.1 DISCONNECT, §11.2-11.4 IGNORE, DEBUG, UNIMPLEMENTED, RFC 8308 EXT_INFO. */
  transportMessage(payload: Uint8Array): void;
  /** Client: USERAUTH_SUCCESS arrived (delayed compression starts after it). */
  authenticationSucceeded(): void;
  /** Everything else, for the upper layers. */
  deliver(payload: Uint8Array, sequence: number): void;
}

/** Reading and gating for one connection. */
export class Inbound {
  readonly reader: PacketReader;
  readonly #host: InboundHost;
  readonly #reconnect: ReconnectState | undefined;
  /** Set only while tracing is on: the one check per message when it is off. */
  trace: Tracer | undefined;
  #byteReader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(reader: PacketReader, options: { host: InboundHost; reconnect: ReconnectState | undefined }) {
    this.reader = reader;
    this.#host = options.host;
    this.#reconnect = options.reconnect;
  }

  /** True while a byte stream is attached. */
  get attached(): boolean {
    return this.#byteReader !== undefined;
  }

  /** Starts reading from `byteReader`; `rest` holds bytes that came with the identification line. */
  start(byteReader: ReadableStreamDefaultReader<Uint8Array>, rest: Uint8Array): void {
    this.#byteReader = byteReader;
    this.reader.push(rest);
    void this.#readLoop(byteReader);
  }

  /** Stops reading; returns the reader so the caller can cancel it. */
  detach(): ReadableStreamDefaultReader<Uint8Array> | undefined {
    const reader = this.#byteReader;
    this.#byteReader = undefined;
    return reader;
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const host = this.#host;
    try {
      // Bytes that arrived with the identification line may already hold whole packets.
      for (let first = true; ; first = false) {
        if (!first) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (error) {
            return host.streamFailed(error);
          }
          if (host.ended || this.#byteReader !== reader) return;
          if (chunk.done) {
            if (this.#reconnect?.negotiated) return host.streamFailed(new Error('Connection closed by peer'));
            this.reader.assertDrained();
            throw new DisconnectError(DisconnectReason.connectionLost, 'Connection closed by peer');
          }
          this.reader.push(chunk.value);
        }
        let payload: Uint8Array | undefined;
        while (!host.ended && this.#byteReader === reader && (payload = this.reader.next()) !== undefined) {
          // Only a host-key signature step returns a promise; no later packet is read before it settles.
          const pending = this.#dispatch(payload);
          if (pending) await pending;
        }
        if (this.#byteReader !== reader) return;
        if (this.reader.awaitingKeys && !host.ended) throw new ProtocolError('NEWKEYS received without a key exchange');
        if (!host.handshake.inProgress) host.maybeRekey();
        const backlog = host.outboundBackpressure();
        if (backlog !== undefined) {
          // Stop reading (TCP pushes back on the peer) until the peer took our replies.
          await backlog;
          if (host.ended || this.#byteReader !== reader) return;
        }
      }
    } catch (error) {
      host.fail(error instanceof SshError ? error : internalFailure(error));
    }
  }

  #dispatch(packet: Uint8Array): void | Promise<void> {
    let payload = packet;
    if (this.#reconnect !== undefined) {
      const message = this.#reconnect.inbound(packet);
      if (message === undefined) return;
      payload = message;
    }
    if (this.trace !== undefined) this.trace.inbound(payload);
    const type = payload[0]!;
    const host = this.#host;
    const handshake = host.handshake;
    if (handshake.initial && type !== MessageType.Disconnect && (type < MessageType.KexInit || type > TRANSPORT_MAX)) {
      // OpenSSH PROTOCOL §1.10: under strict kex anything else during the first exchange is fatal.
      if (handshake.strict) throw new ProtocolError(`Unexpected message ${type} during strict initial key exchange`);
    }
    if (type >= MessageType.KexInit && type <= TRANSPORT_MAX && !this.#unrecognizedKexNumber(type)) {
      if (type === MessageType.KexInit && handshake.initial && this.reader.totalPackets !== 1 && this.#peerStrict(payload)) {
        throw new ProtocolError('Strict key exchange requires KEXINIT to be the first packet');
      }
      return handshake.handleMessage(payload);
    }
    switch (type) {
      case MessageType.Disconnect:
      case MessageType.Ignore:
      case MessageType.Debug:
      case MessageType.Unimplemented:
        return host.transportMessage(payload);
      case MessageType.UserauthSuccess:
        if (!host.isServer && !handshake.initial) host.authenticationSucceeded();
        break;
    }
    if (handshake.initial) throw new ProtocolError(`Unexpected message ${type} before the first key exchange completed`);
    if (handshake.peerInKex) throw new ProtocolError(`Unexpected message ${type} during key exchange`);
    if (type === MessageType.ExtInfo) return host.transportMessage(payload);
    host.deliver(payload, (this.reader.sequence - 1) >>> 0);
  }

  /**
   * RFC 4253 §11.4, as OpenSSH answers them: between exchanges the unassigned numbers 22-29 and
   * the method numbers 30-49 mean nothing, so they get UNIMPLEMENTED like any unknown number.
   */
  #unrecognizedKexNumber(type: number): boolean {
    const handshake = this.#host.handshake;
    return type > MessageType.NewKeys && !handshake.inProgress && !handshake.initial;
  }

  /** Whether a KEXINIT announces the peer's strict-kex marker (checked before negotiation). */
  #peerStrict(payload: Uint8Array): boolean {
    if (!this.#host.strictKex) return false;
    const marker = this.#host.isServer ? 'kex-strict-c-v00@openssh.com' : 'kex-strict-s-v00@openssh.com';
    return new TextDecoder().decode(payload).includes(marker);
  }
}

/**
 * RFC 4253 §11.1: anything but an SshError thrown while handling the peer's messages is a fault
 * of ours, met on their input; the peer still gets a DISCONNECT (protocol error) naming it rather
 * than a connection that just drops.
 */
function internalFailure(error: unknown): ProtocolError {
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new ProtocolError(`Internal error while handling the peer's messages (${what})`, DisconnectReason.protocolError, { cause: error });
}
