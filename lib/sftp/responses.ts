/**
 * Reading a response payload as the reply a request expects (draft-ietf-secsh-filexfer-02 §7):
 * STATUS becomes success, end of data, or an SftpError naming the path; any other mismatch is
 * BAD_MESSAGE.
 */
import { decode, type MessageSchema } from '../codec/schema.js';
import type { SftpAttributes } from './attributes.js';
import { SftpPacketType, SftpStatus } from './constants.js';
import * as M from './messages.js';
import type { SftpPayload } from './packet-reader.js';
import { SftpError } from './sftp-error.js';

/** Throws the SftpError a STATUS payload stands for, unless it is `allowed`. */
function status(payload: Uint8Array, path: string | undefined, allowed: number): number {
  const { code, errorMessage } = decode(M.Status, payload);
  if (code !== allowed) throw new SftpError(code, errorMessage ?? '', { path });
  return code;
}

function unexpected(payload: Uint8Array, wanted: MessageSchema, path: string | undefined): SftpError {
  return new SftpError(SftpStatus.BAD_MESSAGE, `Server sent packet type ${payload[0]} where ${wanted.name} was due`, { path });
}

/** A STATUS OK. */
export function expectOk(payload: Uint8Array, path?: string): void {
  if (payload[0] !== SftpPacketType.status) throw unexpected(payload, M.Status, path);
  status(payload, path, SftpStatus.OK);
}

/** A HANDLE. */
export function expectHandle(payload: Uint8Array, path: string): Uint8Array {
  if (payload[0] === SftpPacketType.status) status(payload, path, -1);
  if (payload[0] !== SftpPacketType.handle) throw unexpected(payload, M.Handle, path);
  return decode(M.Handle, payload).handle.slice();
}

/** An ATTRS. */
export function expectAttrs(payload: Uint8Array, path: string): SftpAttributes {
  if (payload[0] === SftpPacketType.status) status(payload, path, -1);
  if (payload[0] !== SftpPacketType.attrs) throw unexpected(payload, M.Attrs, path);
  return decode(M.Attrs, payload).attrs;
}

/** A NAME, or undefined for STATUS EOF (the end of a directory listing). */
export function expectNames(payload: Uint8Array, path: string): M.SftpName[] | undefined {
  if (payload[0] === SftpPacketType.status) {
    status(payload, path, SftpStatus.EOF);
    return undefined;
  }
  if (payload[0] !== SftpPacketType.name) throw unexpected(payload, M.Name, path);
  return decode(M.Name, payload).names;
}

/**
 * A DATA's bytes as views of the payload (one piece, or several for a split payload), or
 * undefined for STATUS EOF.
 */
export function expectData(payload: SftpPayload, path: string): Uint8Array[] | undefined {
  if (payload instanceof Uint8Array) {
    if (payload[0] === SftpPacketType.status) {
      status(payload, path, SftpStatus.EOF);
      return undefined;
    }
    if (payload[0] !== SftpPacketType.data) throw unexpected(payload, M.Data, path);
    return [decode(M.Data, payload).data];
  }
  // Only DATA is ever split; its header (type, id, length) sits in the head.
  const { head, rest, length } = payload;
  const declared = new DataView(head.buffer, head.byteOffset, head.length).getUint32(5);
  if (declared !== length - 9) {
    throw new SftpError(SftpStatus.BAD_MESSAGE, `Server sent DATA of ${length} bytes declaring ${declared} bytes of data`, { path });
  }
  return [head.subarray(9), ...rest];
}

/** An EXTENDED_REPLY's data. */
export function expectExtendedReply(payload: Uint8Array, path?: string): Uint8Array {
  if (payload[0] === SftpPacketType.status) status(payload, path, -1);
  if (payload[0] !== SftpPacketType.extendedReply) throw unexpected(payload, M.ExtendedReply, path);
  return decode(M.ExtendedReply, payload).data;
}
