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
import { SftpPacketReader, joinPayload, type SftpPayload } from './packet-reader.js';
import { RequestTracker } from './request-tracker.js';
import { SftpError } from './sftp-error.js';

const noop = (): void => {};
/**
 * The channel packet WRITEs are cut to fill: 32 KiB, what sshd and OpenSSH's ssh take per packet
 * and the size RFC 4254 §5.2 expects every peer to accept. A WRITE's header and first data bytes
 * go out in one buffer of this size, so they make one full packet.
 */
export const CHANNEL_PACKET = 32 * 1024;
const EMPTY = new Uint8Array(0);

/** draft-02 §6.4: bytes in front of a WRITE's data (length, type, id, handle, offset, data length). */
export function writeHeaderLength(handle: Uint8Array): number {
  return M.PACKET_HEADER + 4 + handle.length + 8 + 4;
}
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
  readonly #reader: SftpPacketReader<SftpPayload>;
  readonly #tracker = new RequestTracker<SftpPayload>();
  /** READs waiting whose DATA may come split (see `read`); every other request gets one buffer. */
  readonly #splitReads = new Set<number>();
  #version: ((payload: Uint8Array) => void) | undefined;
  #ended: SftpError | undefined;

  /** @param maxPacketLength the largest response accepted */
  constructor(channel: Channel, maxPacketLength: number) {
    this.#channel = channel;
    this.#writer = channel.writable.getWriter();
    this.#writer.closed.catch(noop);
    this.#reader = new SftpPacketReader<SftpPayload>(maxPacketLength, { splitType: SftpPacketType.data });
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
   * @param sizeHint the encoded size when known, so the packet is written in one buffer
   */
  request<F extends Fields>(schema: MessageSchema<string, F>, fields: RequestFields<F>, sizeHint?: number): Promise<Uint8Array> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    const { id, response } = this.#tracker.issue();
    this.#send(M.encodePacket(schema, { ...fields, requestId: id } as MessageValue<F>, sizeHint));
    return response as Promise<Uint8Array>;
  }

  /**
   * draft-02 §6.4 READ; a large DATA answer comes as a SplitPayload whose file bytes are views of
   * the channel's chunks (no copy).
   */
  read(handle: Uint8Array, offset: number, len: number): Promise<SftpPayload> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    const { id, response } = this.#tracker.issue();
    this.#splitReads.add(id);
    this.#send(M.encodePacket(M.Read, { requestId: id, handle, offset: BigInt(offset), len }, M.PACKET_HEADER + 4 + handle.length + 12));
    return response;
  }

  /**
   * draft-02 §6.4 WRITE of `lead` followed by `data` (one WRITE, `lead` first): the header and the
   * first bytes go out in one small buffer, the rest as views, so the file's bytes are copied once
   * (into the channel's packets), not twice.
   * @returns the answer, and `consumed`, which settles once the channel holds no view of `data` or
   *   `lead` (the caller may then reuse their buffers); undefined when no view was handed on: the
   *   bytes that fit the first packet (so a `lead` shorter than a packet less the header, and a
   *   whole WRITE that small) are copied before `write` returns
   */
  write(handle: Uint8Array, offset: number, data: Uint8Array, lead: Uint8Array = EMPTY): { response: Promise<Uint8Array>; consumed: Promise<void> | undefined } {
    if (this.#ended !== undefined) return { response: Promise.reject(this.#ended), consumed: undefined };
    const { id, response } = this.#tracker.issue();
    const length = lead.length + data.length;
    const header = writeHeaderLength(handle);
    const first = Math.min(length, CHANNEL_PACKET - header);
    const packet = new Uint8Array(header + first);
    const view = new DataView(packet.buffer);
    view.setUint32(0, header - 4 + length);
    packet[4] = SftpPacketType.write;
    view.setUint32(5, id);
    view.setUint32(9, handle.length);
    packet.set(handle, 13);
    const at = 13 + handle.length;
    view.setUint32(at, Math.floor(offset / 2 ** 32));
    view.setUint32(at + 4, offset >>> 0);
    view.setUint32(at + 8, length);
    const fromLead = Math.min(lead.length, first);
    packet.set(lead.subarray(0, fromLead), header);
    packet.set(data.subarray(0, first - fromLead), header + fromLead);
    void this.#send(packet);
    let consumed: Promise<void> | undefined;
    if (fromLead < lead.length) consumed = this.#send(lead.subarray(fromLead));
    if (first - fromLead < data.length) consumed = this.#send(data.subarray(first - fromLead));
    return { response: response as Promise<Uint8Array>, consumed };
  }

  #send(packet: Uint8Array): Promise<void> {
    return this.#writer.write(packet).catch((error: unknown) => void this.#end(lost('SFTP channel failed while sending', error)));
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
    this.#splitReads.clear();
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

  #dispatch(received: SftpPayload): void {
    if (this.#version !== undefined) {
      const resolve = this.#version;
      this.#version = undefined;
      resolve(joinPayload(received));
      return;
    }
    const head = received instanceof Uint8Array ? received : received.head;
    const type = head[0]!;
    if (!responseTypes.has(type) || head.length < 5) {
      throw new ProtocolError(`SFTP server sent packet type ${type} (${head.length} bytes) where a response was due`);
    }
    const id = ((head[1]! << 24) | (head[2]! << 16) | (head[3]! << 8) | head[4]!) >>> 0;
    const splitAllowed = this.#splitReads.delete(id);
    const payload = splitAllowed || received instanceof Uint8Array ? received : joinPayload(received);
    if (!this.#tracker.settle(id, payload)) throw new ProtocolError(`SFTP server answered request ${id}, which is not outstanding`);
  }
}

function lost(what: string, cause: unknown): SftpError {
  return new SftpError(SftpStatus.CONNECTION_LOST, `${what}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}
