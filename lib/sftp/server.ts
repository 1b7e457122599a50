/**
 * The SFTP server (draft-ietf-secsh-filexfer-02 version 3 with the OpenSSH extensions) on one
 * channel: answers the `subsystem sftp` request (RFC 4254 §6.5), then INIT/VERSION and the
 * requests, several at a time: READs and WRITEs that touch different bytes run side by side on
 * positional I/O and are answered as they finish (draft-02 §6.1 allows any order); every other
 * request runs alone, in order (server-scheduler.ts). A client that stops reading stops the server
 * starting requests, then reading them (memory: `concurrency` requests and answers plus the
 * channel's buffers). A malformed packet is answered with BAD_MESSAGE and ends the channel; after
 * the client's EOF the server closes the channel; open handles are closed whenever the channel
 * ends. Nothing thrown here escapes into the process.
 */
import { ProtocolError } from '../errors.js';
import type { Channel } from '../mux/channel.js';
import { hasReversedSymlink, SftpPacketType, SftpStatus } from './constants.js';
import { decode } from '../codec/schema.js';
import * as M from './messages.js';
import { joinPayload, SftpPacketReader, type SftpPayload } from './packet-reader.js';
import { RequestScheduler } from './server-scheduler.js';
import { HandleTable } from './server-handles.js';
import { requestIdOf, SERVER_MAX_PACKET, ServerOps, statusOfErrno, statusPacket, versionPacket } from './server-ops.js';
import { ServerRoot } from './server-root.js';
import { SftpError } from './sftp-error.js';

const noop = (): void => {};
/** Answer bytes waiting for the channel beyond which no request starts (four full DATA answers). */
const MAX_UNSENT = 1024 * 1024;
/** Requests a session serves at once unless told otherwise. */
const DEFAULT_CONCURRENCY = 16;

/** Options of `serveSftp`. */
export interface SftpServerOptions {
  /** The directory served as `/`; no path reaches outside it. */
  root: string;
  /** Refuse every change with PERMISSION_DENIED (default false). */
  readOnly?: boolean;
  /** Files and directories a session may hold open at once (default 256). */
  maxHandles?: number;
  /**
   * The client's SSH version string (`session.remoteVersion`): OpenSSH-like clients send SYMLINK's
   * arguments reversed (OpenSSH PROTOCOL §4.1), others in the draft's order. Default: OpenSSH's order.
   */
  clientVersion?: string;
  /**
   * Requests served at once (default 16): READs and WRITEs that touch different bytes run side by
   * side and are answered as they finish; each may hold one answer (up to 255 KiB) in memory.
   */
  concurrency?: number;
  /** Called with the error that ended a session abnormally (bad packets, a failed channel). */
  onError?: (error: Error) => void;
}

/**
 * Serves SFTP on `channel` once the client asks for the `sftp` subsystem; other requests are refused.
 * @example for await (const ch of session.channels) serveSftp(ch, { root: '/srv/files', clientVersion: session.remoteVersion });
 */
export function serveSftp(channel: Channel, options: SftpServerOptions): void {
  let started = false;
  channel.onRequest = (e) => {
    if (e.requestType !== 'subsystem' || e.subsystem !== 'sftp' || started) return false;
    started = true;
    void runSftpServer(channel, options).catch((error: unknown) => options.onError?.(error as Error));
    return true;
  };
}

/**
 * Runs one SFTP session on a channel whose subsystem was already accepted; resolves when it ends.
 * @throws never for peer input: a bad packet ends the session (reported through `onError`)
 */
export async function runSftpServer(channel: Channel, options: SftpServerOptions): Promise<void> {
  const maxHandles = options.maxHandles ?? 256;
  const handles = new HandleTable(maxHandles);
  const writer = channel.writable.getWriter();
  writer.closed.catch(noop);
  const reader = channel.readable.getReader();
  const framer = new SftpPacketReader<SftpPayload>(SERVER_MAX_PACKET, { splitType: SftpPacketType.write });
  const pipeline = new Pipeline(writer, options.concurrency ?? DEFAULT_CONCURRENCY, () => void reader.cancel().catch(noop));
  try {
    const root = await ServerRoot.create(options.root);
    const ops = new ServerOps(root, handles, {
      readOnly: options.readOnly ?? false,
      reversedSymlink: options.clientVersion === undefined || hasReversedSymlink(options.clientVersion),
      maxHandles,
    });
    pipeline.ops = ops;
    let initialised = false;
    for (;;) {
      // Requests waiting for their turn hold their bytes: past the bound, the client waits (its window).
      await pipeline.roomToQueue();
      const { value, done } = await reader.read();
      if (done || pipeline.failure !== undefined) break;
      for (const payload of framer.push(value)) {
        if (!initialised) {
          decode(M.Init, joinPayload(payload));
          initialised = true;
          await writer.write(versionPacket());
          continue;
        }
        pipeline.enqueue(payload);
      }
    }
    if (pipeline.failure === undefined) framer.assertDrained();
    await pipeline.drained();
    if (pipeline.failure !== undefined) throw pipeline.failure;
    await writer.close();
  } catch (error) {
    await pipeline.drained();
    if (error instanceof ProtocolError) {
      // draft-02 §7: tell the client what was wrong before the channel goes.
      await writer.write(statusPacket(pipeline.failedRequest, SftpStatus.BAD_MESSAGE, error.message)).catch(noop);
      options.onError?.(error);
    } else if (!channel.isClosed) {
      options.onError?.(error as Error);
    }
  } finally {
    reader.cancel().catch(noop);
    await handles.closeAll();
    await channel.close();
  }
}

/** One request's response; errors become STATUS, malformed packets end the session. */
async function answer(ops: ServerOps, payload: SftpPayload): Promise<Uint8Array> {
  const head = payload instanceof Uint8Array ? payload : payload.head;
  const type = head[0]!;
  const requestId = requestIdOf(head);
  try {
    if (head.length < 5) throw new ProtocolError(`SFTP packet type ${type} of ${head.length} bytes has no request id`);
    if (type === SftpPacketType.init) throw new ProtocolError('SFTP INIT sent twice');
    const pending = ops.handle(type, payload);
    if (pending === undefined) return statusPacket(requestId, SftpStatus.OP_UNSUPPORTED, `Unsupported request type ${type}`);
    return await pending;
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new ProtocolError(`${error.message} (request ${requestId})`, error.reason, { cause: error });
    }
    if (error instanceof SftpError) return statusPacket(requestId, error.code, error.description);
    const { code, message } = statusOfErrno(error as NodeJS.ErrnoException);
    return statusPacket(requestId, code, message);
  }
}

/**
 * The requests of one session between the channel and the file system: queued in arrival order,
 * started as the scheduler allows (non-overlapping READs and WRITEs side by side), answered as
 * each finishes. Nothing starts while MAX_UNSENT bytes of answers wait for the channel to take
 * them, so reads overlap the sending of earlier answers, and a client that stops reading holds at
 * most that plus `concurrency` answers here; `roomToQueue` then stops the reading.
 */
class Pipeline {
  ops: ServerOps | undefined;
  /** The first malformed request; nothing starts after it. */
  failure: ProtocolError | undefined;
  failedRequest = 0;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #scheduler: RequestScheduler<SftpPayload>;
  readonly #maxQueued: number;
  readonly #onFailure: () => void;
  #wake: (() => void) | undefined;
  #writerFailed = false;
  /** Answer bytes written and not yet taken by the channel (copied into its packets). */
  #unsent = 0;

  constructor(writer: WritableStreamDefaultWriter<Uint8Array>, concurrency: number, onFailure: () => void) {
    this.#writer = writer;
    this.#scheduler = new RequestScheduler(concurrency);
    this.#maxQueued = Math.max(1, concurrency);
    this.#onFailure = onFailure;
  }

  enqueue(payload: SftpPayload): void {
    if (this.failure !== undefined) return;
    this.#scheduler.enqueue(payload, this.ops!.access(payload));
    this.#pump();
  }

  /** Resolves once fewer than the bound wait to start (or the session failed). */
  async roomToQueue(): Promise<void> {
    while (this.failure === undefined && !this.#writerFailed && this.#scheduler.queued >= this.#maxQueued) await this.#changed();
  }

  /**
   * Resolves once every started request has finished and, unless the session failed or the
   * channel went, every queued one too.
   */
  async drained(): Promise<void> {
    const startsMore = (): boolean => this.failure === undefined && !this.#writerFailed && this.#scheduler.queued > 0;
    while (this.#scheduler.running > 0 || startsMore()) await this.#changed();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #pump(): void {
    // Past MAX_UNSENT the client is not taking answers as fast as they come: start nothing more
    // until the channel takes some (#run pumps again then).
    while (this.failure === undefined && !this.#writerFailed && this.#unsent < MAX_UNSENT) {
      const payload = this.#scheduler.next();
      if (payload === undefined) return;
      void this.#run(payload);
    }
  }

  async #run(payload: SftpPayload): Promise<void> {
    try {
      const response = await answer(this.ops!, payload);
      if (this.failure === undefined) {
        // Once written, the channel has copied the bytes into its packets: the buffer may be reused.
        this.#unsent += response.length;
        this.#writer.write(response).then(
          () => {
            this.#unsent -= response.length;
            this.ops!.recycle(response);
            this.#pump();
          },
          () => {
            this.#writerFailed = true;
            this.#notify();
          },
        );
      }
    } catch (error) {
      if (this.failure === undefined) {
        this.failure = error as ProtocolError;
        this.failedRequest = requestIdOf(payload instanceof Uint8Array ? payload : payload.head);
        this.#onFailure();
      }
    } finally {
      this.#scheduler.finished(payload);
      this.#notify();
      this.#pump();
    }
  }
}
