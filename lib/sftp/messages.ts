/**
 * SFTP packets declared as data (draft-ietf-secsh-filexfer-02 §4-§8, OpenSSH PROTOCOL §4) for the
 * project's schema codec, plus the packet frame: `uint32 length` then the payload (type byte and
 * fields), which `encodePacket` writes in one buffer sized up front. Which side sends what, and in
 * which order, is the client's and the server's business, not this file's.
 */
import { ProtocolError } from '../errors.js';
import { message, optional, rest, string, uint32, uint64, utf8, type Field, type MessageSchema, type MessageValue } from '../codec/schema.js';
import { SshWriter, utf8Decode, type SshReader } from '../codec/wire.js';
import { attrs, readAttributes, writeAttributes, type SftpAttributes } from './attributes.js';
import { SftpPacketType as T } from './constants.js';

/**
 * A path or file name: draft-02 §6 sends them as plain strings, and servers list names that are
 * not UTF-8 (old files, other locales), so they decode with replacement characters instead of failing.
 * A leading U+FEFF is part of the name, not a byte-order mark.
 */
export const path: Field<string> = {
  read: (r) => utf8Decode(r.string()),
  write: (w, v) => void w.string(v),
};

/** draft-02 §4: extension-name/extension-data pairs up to the end of INIT or VERSION. */
export const extensionPairs: Field<Map<string, string>> = {
  read: (r) => {
    const pairs = new Map<string, string>();
    while (r.remaining > 0) pairs.set(r.utf8(), utf8Decode(r.string()));
    return pairs;
  },
  write: (w, pairs) => {
    for (const [name, data] of pairs) w.string(name).string(data);
  },
};

/** One entry of an SSH_FXP_NAME reply (draft-02 §7). */
export interface SftpName {
  filename: string;
  /** `ls -l` style line (draft-02 §7); clients show it, never parse it. */
  longname: string;
  attributes: SftpAttributes;
}

/** draft-02 §7: `uint32 count` then count × (filename, longname, ATTRS). */
export const names: Field<SftpName[]> = {
  read: (r: SshReader) => {
    const count = r.uint32();
    // Each entry takes at least 12 bytes (two empty strings and a flags word).
    if (count * 12 > r.remaining) throw new ProtocolError(`${r.context}: ${count} names cannot fit in ${r.remaining} bytes`);
    const list: SftpName[] = [];
    for (let i = 0; i < count; i++) list.push({ filename: path.read(r), longname: path.read(r), attributes: readAttributes(r) });
    return list;
  },
  write: (w, list) => {
    w.uint32(list.length);
    for (const n of list) {
      w.string(n.filename).string(n.longname);
      writeAttributes(w, n.attributes);
    }
  },
};

/** draft-02 §4 */
export const Init = message(T.init, 'Init', { version: uint32, extensions: extensionPairs });
/** draft-02 §4 */
export const Version = message(T.version, 'Version', { version: uint32, extensions: extensionPairs });
/** draft-02 §6.3 */
export const Open = message(T.open, 'Open', { requestId: uint32, filename: path, pflags: uint32, attrs });
/** draft-02 §6.3 */
export const Close = message(T.close, 'Close', { requestId: uint32, handle: string });
/** draft-02 §6.4 */
export const Read = message(T.read, 'Read', { requestId: uint32, handle: string, offset: uint64, len: uint32 });
/** draft-02 §6.4 */
export const Write = message(T.write, 'Write', { requestId: uint32, handle: string, offset: uint64, data: string });
/** draft-02 §6.8 */
export const Lstat = message(T.lstat, 'Lstat', { requestId: uint32, path });
/** draft-02 §6.8 */
export const Fstat = message(T.fstat, 'Fstat', { requestId: uint32, handle: string });
/** draft-02 §6.9 */
export const Setstat = message(T.setstat, 'Setstat', { requestId: uint32, path, attrs });
/** draft-02 §6.9 */
export const Fsetstat = message(T.fsetstat, 'Fsetstat', { requestId: uint32, handle: string, attrs });
/** draft-02 §6.7 */
export const Opendir = message(T.opendir, 'Opendir', { requestId: uint32, path });
/** draft-02 §6.7 */
export const Readdir = message(T.readdir, 'Readdir', { requestId: uint32, handle: string });
/** draft-02 §6.5 */
export const Remove = message(T.remove, 'Remove', { requestId: uint32, filename: path });
/** draft-02 §6.6 */
export const Mkdir = message(T.mkdir, 'Mkdir', { requestId: uint32, path, attrs });
/** draft-02 §6.6 */
export const Rmdir = message(T.rmdir, 'Rmdir', { requestId: uint32, path });
/** draft-02 §6.11 */
export const Realpath = message(T.realpath, 'Realpath', { requestId: uint32, path });
/** draft-02 §6.8 */
export const Stat = message(T.stat, 'Stat', { requestId: uint32, path });
/** draft-02 §6.5 */
export const Rename = message(T.rename, 'Rename', { requestId: uint32, oldpath: path, newpath: path });
/** draft-02 §6.10 */
export const Readlink = message(T.readlink, 'Readlink', { requestId: uint32, path });
/**
 * draft-02 §6.10, fields in the draft's order. OpenSSH PROTOCOL §4.1: OpenSSH sends and expects
 * them reversed (target first); callers swap them for such peers.
 */
export const Symlink = message(T.symlink, 'Symlink', { requestId: uint32, linkpath: path, targetpath: path });
/** draft-02 §7; message and language tag are optional for old servers that omit them. */
export const Status = message(T.status, 'Status', {
  requestId: uint32,
  code: uint32,
  errorMessage: optional(utf8),
  languageTag: optional(utf8),
});
/** draft-02 §7 */
export const Handle = message(T.handle, 'Handle', { requestId: uint32, handle: string });
/** draft-02 §7 */
export const Data = message(T.data, 'Data', { requestId: uint32, data: string });
/** draft-02 §7 */
export const Name = message(T.name, 'Name', { requestId: uint32, names });
/** draft-02 §7 */
export const Attrs = message(T.attrs, 'Attrs', { requestId: uint32, attrs });
/** draft-02 §8 */
export const Extended = message(T.extended, 'Extended', { requestId: uint32, extendedRequest: utf8, data: rest });
/** draft-02 §8 */
export const ExtendedReply = message(T.extendedReply, 'ExtendedReply', { requestId: uint32, data: rest });

/** OpenSSH PROTOCOL §4.3-4.4: posix-rename@openssh.com and hardlink@openssh.com request data. */
export const TwoPaths = { oldpath: path, newpath: path };
/** OpenSSH PROTOCOL §4.4: statvfs@openssh.com request data. */
export const OnePath = { path };
/** OpenSSH PROTOCOL §4.4-4.6: fstatvfs@openssh.com and fsync@openssh.com request data. */
export const OneHandle = { handle: string };

/** OpenSSH PROTOCOL §4.4: the statvfs@openssh.com reply, as statvfs(3). */
export const StatvfsReply = {
  bsize: uint64,
  frsize: uint64,
  blocks: uint64,
  bfree: uint64,
  bavail: uint64,
  files: uint64,
  ffree: uint64,
  favail: uint64,
  fsid: uint64,
  flag: uint64,
  namemax: uint64,
};
/** What `statvfs` returns (OpenSSH PROTOCOL §4.4), as bigints like statvfs(3)'s fields. */
export type SftpStatvfs = MessageValue<typeof StatvfsReply>;

/** OpenSSH PROTOCOL §4.8: the limits@openssh.com reply; 0 means "no limit" for handles. */
export const LimitsReply = {
  maxPacketLength: uint64,
  maxReadLength: uint64,
  maxWriteLength: uint64,
  maxOpenHandles: uint64,
};

/** Bytes the header of each packet type adds before its variable fields (for sizing buffers). */
export const PACKET_HEADER = 4 + 1 + 4;

/**
 * Encodes `value` as a framed SFTP packet (`uint32 length`, type, fields) in one buffer.
 * @param sizeHint expected total size; exact for DATA and WRITE, so their payload is copied once
 */
export function encodePacket<F extends Record<string, Field<unknown>>>(
  schema: MessageSchema<string, F>,
  value: MessageValue<F>,
  sizeHint = 64,
): Uint8Array {
  const w = new SshWriter(sizeHint);
  w.uint32(0).byte(schema.type);
  for (const key in schema.fields) (schema.fields[key] as Field<unknown>).write(w, value[key]);
  const bytes = w.toBytes();
  new DataView(bytes.buffer, bytes.byteOffset, 4).setUint32(0, bytes.length - 4);
  return bytes;
}
