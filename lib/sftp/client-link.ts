/**
 * The client's end of one SFTP channel: INIT/VERSION (draft-ietf-secsh-filexfer-02 §4), one writer
 * for every request, one reader loop that frames responses and hands each to the request waiting
 * for its id. Owns no file semantics (client.ts) and no streaming policy (read/write streams).
 */
import { ProtocolError } from '../errors.js';
import { decode, type Field, type MessageSchema, type MessageValue } from '../codec/schema.js';
import type { Channel } from '../mux/channel.js';
import { SFTP_VERSION, SftpPacketType, SftpStatus } from './constants.js';
import * as M from './messages.js';
import { SftpPacketReader } from './packet-reader.js';
import { RequestTracker } from './request-tracker.js';
import { SftpError } from './sftp-error.js';

const noop = (): void => {};
const responseTypes = new Set<number>([
  SftpPacketType.status,
  SftpPacketType.handle,
  SftpPacketType.data,
  SftpPacketType.name,
  SftpPacketType.attrs,
  SftpPacketType.extendedReply,
]);

type Fields = Record<string, Field<unknown>>;
/** A request's fields without the id, which the link assigns. */
export type RequestFields<F extends Fields> = Omit<MessageValue<F>, 'requestId'>;

/** Sends requests over one channel and matches their responses. */
export class ClientLink {
  readonly #channel: Channel;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: SftpPacketReader;
  readonly #tracker = new RequestTracker<Uint8Array>();
  #version: ((payload: Uint8Array) => void) | undefined;
  #ended: SftpError | undefined;

  /** @param maxPacketLength the largest response accepted */
  constructor(channel: Channel, maxPacketLength: number) {
    this.#channel = channel;
    this.#writer = channel.writable.getWriter();
    this.#writer.closed.catch(noop);
    this.#reader = new SftpPacketReader(maxPacketLength);
  }

  /** Requests sent and not answered yet. */
  get pending(): number {
    return this.#tracker.size;
  }

  /** Resolves when the channel takes more data without queueing beyond its buffer. */
  get ready(): Promise<void> {
    return this.#writer.ready;
  }

  /**
   * draft-02 §4: sends INIT, starts reading and waits for VERSION.
   * @returns the extensions the server announced
   */
  async handshake(): Promise<Map<string, string>> {
    const version = new Promise<Uint8Array>((resolve) => (this.#version = resolve));
    void this.#readLoop();
    await this.#writer.write(M.encodePacket(M.Init, { version: SFTP_VERSION, extensions: new Map() }));
    const reply = await Promise.race([version, this.#endedPromise()]);
    const { version: serverVersion, extensions } = decode(M.Version, reply);
    if (serverVersion !== SFTP_VERSION) {
      throw this.#end(new SftpError(SftpStatus.OP_UNSUPPORTED, `Server speaks SFTP version ${serverVersion}, not ${SFTP_VERSION}`));
    }
    return extensions;
  }

  /**
   * Sends one request; resolves with the response payload (type byte first) whatever its type.
   * @param sizeHint the encoded size when known (WRITE), so the data is copied once
   */
  request<F extends Fields>(schema: MessageSchema<string, F>, fields: RequestFields<F>, sizeHint?: number): Promise<Uint8Array> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    const { id, response } = this.#tracker.issue();
    const packet = M.encodePacket(schema, { ...fields, requestId: id } as MessageValue<F>, sizeHint);
    this.#writer.write(packet).catch((error: unknown) => this.#end(lost('SFTP channel failed while sending', error)));
    return response;
  }

  /** Ends the session: EOF, then CLOSE; every waiting request rejects with NO_CONNECTION. */
  async close(): Promise<void> {
    this.#end(new SftpError(SftpStatus.NO_CONNECTION, 'SFTP client was closed'));
    await this.#writer.close().catch(noop);
    await this.#channel.close();
  }

  #endWaiters: ((error: SftpError) => void)[] = [];

  #endedPromise(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.#ended !== undefined) reject(this.#ended);
      else this.#endWaiters.push(reject);
    });
  }

  #end(error: SftpError): SftpError {
    if (this.#ended !== undefined) return this.#ended;
    this.#ended = error;
    this.#tracker.failAll(error);
    for (const reject of this.#endWaiters.splice(0)) reject(error);
    return error;
  }

  async #readLoop(): Promise<void> {
    const reader = this.#channel.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const payload of this.#reader.push(value)) this.#dispatch(payload);
      }
      this.#reader.assertDrained();
      this.#end(new SftpError(SftpStatus.CONNECTION_LOST, 'SFTP channel was closed by the server'));
    } catch (error) {
      const bad = error instanceof ProtocolError;
      const ended = bad ? new SftpError(SftpStatus.BAD_MESSAGE, error.message, { cause: error }) : lost('SFTP channel failed', error);
      this.#end(ended);
      reader.cancel(ended).catch(noop);
      if (bad) void this.#channel.close();
    } finally {
      reader.releaseLock();
    }
  }

  #dispatch(payload: Uint8Array): void {
    if (this.#version !== undefined) {
      const resolve = this.#version;
      this.#version = undefined;
      resolve(payload);
      return;
    }
    const type = payload[0]!;
    if (!responseTypes.has(type) || payload.length < 5) {
      throw new ProtocolError(`SFTP server sent packet type ${type} (${payload.length} bytes) where a response was due`);
    }
    const id = ((payload[1]! << 24) | (payload[2]! << 16) | (payload[3]! << 8) | payload[4]!) >>> 0;
    if (!this.#tracker.settle(id, payload)) throw new ProtocolError(`SFTP server answered request ${id}, which is not outstanding`);
  }
}

function lost(what: string, cause: unknown): SftpError {
  return new SftpError(SftpStatus.CONNECTION_LOST, `${what}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}
