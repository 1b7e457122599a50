/**
 * The SFTP server (draft-ietf-secsh-filexfer-02 version 3 with the OpenSSH extensions) on one
 * channel: answers the `subsystem sftp` request (RFC 4254 §6.5), then INIT/VERSION and each request
 * in turn, one answer at a time so a client that stops reading stops the server reading too
 * (memory: one packet plus the channel's buffer). A malformed packet is answered with BAD_MESSAGE
 * and ends the channel; after the client's EOF the server closes the channel; open handles are
 * closed whenever the channel ends. Nothing thrown here escapes into the process.
 */
import { ProtocolError } from '../errors.js';
import type { Channel } from '../mux/channel.js';
import { hasReversedSymlink, SftpPacketType, SftpStatus } from './constants.js';
import { decode } from '../codec/schema.js';
import * as M from './messages.js';
import { SftpPacketReader } from './packet-reader.js';
import { HandleTable } from './server-handles.js';
import { requestIdOf, SERVER_MAX_PACKET, ServerOps, statusOfErrno, statusPacket, versionPacket } from './server-ops.js';
import { ServerRoot } from './server-root.js';
import { SftpError } from './sftp-error.js';

const noop = (): void => {};

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
  const framer = new SftpPacketReader(SERVER_MAX_PACKET);
  let current = 0;
  try {
    const root = await ServerRoot.create(options.root);
    const ops = new ServerOps(root, handles, {
      readOnly: options.readOnly ?? false,
      reversedSymlink: options.clientVersion === undefined || hasReversedSymlink(options.clientVersion),
      maxHandles,
    });
    let initialised = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const payload of framer.push(value)) {
        if (!initialised) {
          decode(M.Init, payload);
          initialised = true;
          await writer.write(versionPacket());
          continue;
        }
        current = requestIdOf(payload);
        const response = await answer(ops, payload);
        // One answer in flight beyond the channel's buffer: a client that stops reading stops us here.
        void writer.write(response).catch(noop);
        await writer.ready;
      }
    }
    framer.assertDrained();
    await writer.close();
  } catch (error) {
    if (error instanceof ProtocolError) {
      // draft-02 §7: tell the client what was wrong before the channel goes.
      await writer.write(statusPacket(current, SftpStatus.BAD_MESSAGE, error.message)).catch(noop);
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
async function answer(ops: ServerOps, payload: Uint8Array): Promise<Uint8Array> {
  const type = payload[0]!;
  const requestId = requestIdOf(payload);
  try {
    if (payload.length < 5) throw new ProtocolError(`SFTP packet type ${type} of ${payload.length} bytes has no request id`);
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
