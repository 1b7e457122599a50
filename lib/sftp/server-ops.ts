/**
 * The server's answer to each SFTP request (draft-ietf-secsh-filexfer-02 §6, OpenSSH PROTOCOL §4)
 * over node:fs/promises, every path through ServerRoot. Each method takes a request payload and
 * returns the framed response; failures are thrown as SftpError or errno errors and become STATUS
 * in server.ts. Owns no framing and no channel.
 */
import { constants } from 'node:fs';
import { chmod, chown, link, lstat, mkdir, readlink, rename, rmdir, stat, statfs, symlink, truncate, unlink, utimes } from 'node:fs/promises';
import { posix } from 'node:path';
import { ProtocolError } from '../errors.js';
import { decode, decodeFields, encodeFields, type MessageOf } from '../codec/schema.js';
import { SftpAttributes } from './attributes.js';
import { OpenFlags, SFTP_EXTENSION_VERSIONS, SFTP_VERSION, SftpExtension, SftpPacketType as T, SftpStatus } from './constants.js';
import * as M from './messages.js';
import type { HandleTable, OpenFile } from './server-handles.js';
import { joinPayload, type SftpPayload, type SplitPayload } from './packet-reader.js';
import type { FileAccess } from './server-scheduler.js';
import { attributesOf, longname } from './longname.js';
import type { ServerRoot } from './server-root.js';
import { SftpError } from './sftp-error.js';

/** Largest READ answered in full, and largest packet accepted (OpenSSH's sftp-server figures). */
export const SERVER_MAX_PACKET = 256 * 1024;
const MAX_READ = SERVER_MAX_PACKET - 1024;
/** Size of a full-length DATA packet's buffer. */
const DATA_BUFFER = M.PACKET_HEADER + 4 + MAX_READ;
/** Spare DATA buffers kept per session (4 MiB). */
const MAX_SPARE = 16;
/** Entries per READDIR answer (OpenSSH sends at most 100). */
const READDIR_BATCH = 100;

/** Options of the operations of one session. */
export interface ServerOpsOptions {
  readOnly: boolean;
  /** The client sends SYMLINK's target first (OpenSSH PROTOCOL §4.1). */
  reversedSymlink: boolean;
  maxHandles: number;
}

/** draft-02 §7 STATUS. */
export function statusPacket(requestId: number, code: number, errorMessage: string): Uint8Array {
  return M.encodePacket(M.Status, { requestId, code, errorMessage, languageTag: '' });
}

/** draft-02 §4 VERSION with the extensions this server implements. */
export function versionPacket(): Uint8Array {
  return M.encodePacket(M.Version, { version: SFTP_VERSION, extensions: new Map(Object.entries(SFTP_EXTENSION_VERSIONS)) });
}

/** The requests that change the file system, refused when read-only. */
const WRITES = new Set<number>([T.write, T.setstat, T.fsetstat, T.remove, T.mkdir, T.rmdir, T.rename, T.symlink]);
const WRITE_EXTENSIONS = new Set<string>([SftpExtension.posixRename, SftpExtension.hardlink]);

/** Request handlers of one session. */
export class ServerOps {
  readonly #root: ServerRoot;
  readonly #handles: HandleTable;
  readonly #options: ServerOpsOptions;
  /** DATA buffers the channel has finished copying, reused by later READs (see `recycle`). */
  readonly #spare: ArrayBuffer[] = [];

  constructor(root: ServerRoot, handles: HandleTable, options: ServerOpsOptions) {
    this.#root = root;
    this.#handles = handles;
    this.#options = options;
  }

  /**
   * Takes back a response the channel has finished with (its bytes copied into channel packets):
   * a full-size DATA buffer is kept for the next READ, sparing a large allocation per answer.
   */
  recycle(response: Uint8Array): void {
    // Only while a handle is open: a session with nothing open holds no spare buffers.
    if (this.#handles.size === 0) return;
    if (response.buffer.byteLength === DATA_BUFFER && response.buffer instanceof ArrayBuffer && this.#spare.length < MAX_SPARE) {
      this.#spare.push(response.buffer);
    }
  }

  /** Full-size DATA buffers kept for reuse (none while no handle is open). */
  get spareBuffers(): number {
    return this.#spare.length;
  }

  /**
   * What a READ or WRITE touches, for the scheduler; undefined (run it alone) for every other
   * request and for a READ or WRITE whose handle is not an open file.
   */
  access(payload: SftpPayload): FileAccess | undefined {
    const head = payload instanceof Uint8Array ? payload : payload.head;
    if (head[0] !== T.read && head[0] !== T.write) return undefined;
    const bulk = bulkHeader(head);
    const open = bulk === undefined ? undefined : this.#handles.findFile(bulk.handle);
    if (bulk === undefined || open === undefined) return undefined;
    const write = head[0] === T.write;
    if (write && open.append) return { write, file: open.key, start: 0, end: Infinity };
    const length = write ? bulk.length : Math.min(bulk.length, MAX_READ);
    return { write, file: open.key, start: bulk.offset, end: bulk.offset + length };
  }

  /**
   * Answers one request.
   * @returns the framed response, or undefined for a packet type this server does not know
   */
  handle(type: number, received: SftpPayload): Promise<Uint8Array> | undefined {
    if (type === T.write && !(received instanceof Uint8Array)) return this.#writeSplit(received);
    const payload = received instanceof Uint8Array ? received : joinPayload(received);
    if (this.#options.readOnly && WRITES.has(type)) return Promise.resolve(this.#denied(payload));
    switch (type) {
      case T.open: return this.#open(decode(M.Open, payload));
      case T.close: return this.#close(decode(M.Close, payload));
      case T.read: return this.#read(decode(M.Read, payload));
      case T.write: return this.#write(decode(M.Write, payload));
      case T.lstat: return this.#stat(decode(M.Lstat, payload), false);
      case T.stat: return this.#stat(decode(M.Stat, payload), true);
      case T.fstat: return this.#fstat(decode(M.Fstat, payload));
      case T.setstat: return this.#setstat(decode(M.Setstat, payload));
      case T.fsetstat: return this.#fsetstat(decode(M.Fsetstat, payload));
      case T.opendir: return this.#opendir(decode(M.Opendir, payload));
      case T.readdir: return this.#readdir(decode(M.Readdir, payload));
      case T.remove: return this.#pathOp(decode(M.Remove, payload).requestId, decode(M.Remove, payload).filename, unlink);
      case T.mkdir: return this.#mkdir(decode(M.Mkdir, payload));
      case T.rmdir: return this.#pathOp(decode(M.Rmdir, payload).requestId, decode(M.Rmdir, payload).path, rmdir);
      case T.realpath: return this.#realpath(decode(M.Realpath, payload));
      case T.rename: return this.#rename(decode(M.Rename, payload), false);
      case T.readlink: return this.#readlink(decode(M.Readlink, payload));
      case T.symlink: return this.#symlink(decode(M.Symlink, payload));
      case T.extended: return this.#extended(decode(M.Extended, payload));
      default: return undefined;
    }
  }

  #denied(payload: Uint8Array): Uint8Array {
    return statusPacket(requestIdOf(payload), SftpStatus.PERMISSION_DENIED, 'Read-only server');
  }

  /** draft-02 §6.3; read-only servers refuse every flag but READ. */
  async #open({ requestId, filename, pflags, attrs }: MessageOf<typeof M.Open>): Promise<Uint8Array> {
    if (this.#options.readOnly && pflags & ~OpenFlags.read) return statusPacket(requestId, SftpStatus.PERMISSION_DENIED, 'Read-only server');
    if (this.#handles.full) return statusPacket(requestId, SftpStatus.FAILURE, 'Too many open handles');
    const access = pflags & OpenFlags.write ? (pflags & OpenFlags.read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
    let flags = access;
    if (pflags & OpenFlags.append) flags |= constants.O_APPEND;
    if (pflags & OpenFlags.creat) flags |= constants.O_CREAT;
    if (pflags & OpenFlags.trunc) flags |= constants.O_TRUNC;
    if (pflags & OpenFlags.excl) flags |= constants.O_EXCL;
    const file = await this.#root.openFile(filename, flags, (attrs.mode ?? 0o666) & 0o7777);
    let key: string;
    try {
      const { dev, ino } = await file.stat();
      key = `${dev}:${ino}`;
    } catch (error) {
      await file.close();
      throw error;
    }
    const entry = { kind: 'file' as const, file, path: filename, key, append: (pflags & OpenFlags.append) !== 0 };
    return M.encodePacket(M.Handle, { requestId, handle: this.#handles.add(entry) });
  }

  async #close({ requestId, handle }: { requestId: number; handle: Uint8Array }): Promise<Uint8Array> {
    await this.#handles.close(handle);
    // Up to MAX_SPARE × 255 KiB would otherwise stay with an idle session for its whole life.
    if (this.#handles.size === 0) this.#spare.length = 0;
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  /** draft-02 §6.4: the data is read straight into the DATA packet. */
  async #read({ requestId, handle, offset, len }: { requestId: number; handle: Uint8Array; offset: bigint; len: number }): Promise<Uint8Array> {
    const { file } = this.#handles.file(handle);
    const length = Math.min(len, MAX_READ);
    const spare = length === MAX_READ ? this.#spare.pop() : undefined;
    const packet = spare === undefined ? new Uint8Array(M.PACKET_HEADER + 4 + length) : new Uint8Array(spare);
    const { bytesRead } = await file.read(packet, M.PACKET_HEADER + 4, length, Number(offset));
    if (bytesRead === 0 && length > 0) {
      this.recycle(packet);
      return statusPacket(requestId, SftpStatus.EOF, 'End of file');
    }
    const view = new DataView(packet.buffer);
    view.setUint32(0, M.PACKET_HEADER + bytesRead);
    packet[4] = T.data;
    view.setUint32(5, requestId);
    view.setUint32(9, bytesRead);
    return packet.subarray(0, M.PACKET_HEADER + 4 + bytesRead);
  }

  async #write({ requestId, handle, offset, data }: { requestId: number; handle: Uint8Array; offset: bigint; data: Uint8Array }): Promise<Uint8Array> {
    const { file } = this.#handles.file(handle);
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await file.write(data, done, data.length - done, Number(offset) + done);
      done += bytesWritten;
    }
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  /** A large WRITE that came in the channel's pieces: written with one writev, never joined. */
  async #writeSplit(payload: SplitPayload): Promise<Uint8Array> {
    const bulk = bulkHeader(payload.head);
    // A handle too long for the head is never one of ours: the joined packet gets the usual answer.
    if (bulk === undefined) return this.handle(T.write, joinPayload(payload))!;
    if (bulk.dataStart + bulk.length !== payload.length) {
      throw new ProtocolError(`SFTP WRITE of ${payload.length} bytes declares ${bulk.length} bytes of data`);
    }
    if (this.#options.readOnly) return statusPacket(bulk.requestId, SftpStatus.PERMISSION_DENIED, 'Read-only server');
    const { file } = this.#handles.file(bulk.handle);
    let pieces = [payload.head.subarray(bulk.dataStart), ...payload.rest];
    for (let done = 0; done < bulk.length; ) {
      const { bytesWritten } = await file.writev(pieces, bulk.offset + done);
      done += bytesWritten;
      pieces = dropBytes(pieces, bytesWritten);
    }
    return statusPacket(bulk.requestId, SftpStatus.OK, '');
  }

  async #stat({ requestId, path }: { requestId: number; path: string }, follow: boolean): Promise<Uint8Array> {
    const stats = follow ? await stat(await this.#root.follow(path)) : await lstat(await this.#root.parent(path));
    return M.encodePacket(M.Attrs, { requestId, attrs: attributesOf(stats) });
  }

  async #fstat({ requestId, handle }: { requestId: number; handle: Uint8Array }): Promise<Uint8Array> {
    const { file } = this.#handles.file(handle);
    return M.encodePacket(M.Attrs, { requestId, attrs: attributesOf(await file.stat()) });
  }

  /** draft-02 §6.9 on a path: symlinks resolved and checked, then the real path changed. */
  async #setstat({ requestId, path, attrs }: { requestId: number; path: string; attrs: SftpAttributes }): Promise<Uint8Array> {
    const real = await this.#root.follow(path);
    if (attrs.size !== undefined) await truncate(real, attrs.size);
    if (attrs.uid !== undefined) await chown(real, attrs.uid, attrs.gid!);
    if (attrs.mode !== undefined) await chmod(real, attrs.mode & 0o7777);
    if (attrs.atime !== undefined) await utimes(real, attrs.atime, attrs.mtime!);
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  async #fsetstat({ requestId, handle, attrs }: { requestId: number; handle: Uint8Array; attrs: SftpAttributes }): Promise<Uint8Array> {
    const { file } = this.#handles.file(handle);
    if (attrs.size !== undefined) await file.truncate(attrs.size);
    if (attrs.uid !== undefined) await file.chown(attrs.uid, attrs.gid!);
    if (attrs.mode !== undefined) await file.chmod(attrs.mode & 0o7777);
    if (attrs.atime !== undefined) await file.utimes(attrs.atime, attrs.mtime!);
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  async #opendir({ requestId, path }: { requestId: number; path: string }): Promise<Uint8Array> {
    if (this.#handles.full) return statusPacket(requestId, SftpStatus.FAILURE, 'Too many open handles');
    const real = await this.#root.follow(path);
    const dir = await this.#root.openDir(path);
    return M.encodePacket(M.Handle, { requestId, handle: this.#handles.add({ kind: 'dir', dir, path, real }) });
  }

  /** draft-02 §6.7: up to 100 entries per answer, each lstat'ed, then STATUS EOF. */
  async #readdir({ requestId, handle }: { requestId: number; handle: Uint8Array }): Promise<Uint8Array> {
    const entry = this.#handles.dir(handle);
    const list: M.SftpName[] = [];
    const now = Date.now();
    while (list.length < READDIR_BATCH) {
      const dirent = await entry.dir.read();
      if (dirent === null) break;
      // An entry removed since the listing started is skipped, as ls does.
      const stats = await lstat(posix.join(entry.real, dirent.name)).catch(() => undefined);
      if (stats !== undefined) list.push({ filename: dirent.name, longname: longname(dirent.name, stats, now), attributes: attributesOf(stats) });
    }
    if (list.length === 0) return statusPacket(requestId, SftpStatus.EOF, 'End of directory');
    return M.encodePacket(M.Name, { requestId, names: list }, 4096);
  }

  async #pathOp(requestId: number, path: string, op: (real: string) => Promise<void>): Promise<Uint8Array> {
    if (this.#root.virtual(path) === '/') throw new SftpError(SftpStatus.PERMISSION_DENIED, 'The served directory itself cannot be removed', { path });
    await op(await this.#root.parent(path));
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  async #mkdir({ requestId, path, attrs }: { requestId: number; path: string; attrs: SftpAttributes }): Promise<Uint8Array> {
    await mkdir(await this.#root.parent(path), { mode: (attrs.mode ?? 0o777) & 0o7777 });
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  /** draft-02 §6.11: symlinks resolved inside the root; a path that does not exist yet is normalised as written. */
  async #realpath({ requestId, path }: { requestId: number; path: string }): Promise<Uint8Array> {
    let virtual = this.#root.virtual(path);
    try {
      virtual = this.#root.toVirtual(await this.#root.follow(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return nameReply(requestId, virtual);
  }

  /** draft-02 §6.5 RENAME fails when the new path exists; posix-rename@openssh.com replaces it. */
  async #rename({ requestId, oldpath, newpath }: { requestId: number; oldpath: string; newpath: string }, replace: boolean): Promise<Uint8Array> {
    const from = await this.#root.parent(oldpath);
    const to = await this.#root.parent(newpath);
    if (!replace && (await lstat(to).then(() => true, () => false))) {
      throw new SftpError(SftpStatus.FAILURE, 'Target exists', { path: newpath });
    }
    await rename(from, to);
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  async #readlink({ requestId, path }: { requestId: number; path: string }): Promise<Uint8Array> {
    return nameReply(requestId, this.#root.linkText(await readlink(await this.#root.parent(path))));
  }

  async #symlink({ requestId, linkpath, targetpath }: { requestId: number; linkpath: string; targetpath: string }): Promise<Uint8Array> {
    const [target, linkPath] = this.#options.reversedSymlink ? [linkpath, targetpath] : [targetpath, linkpath];
    const stored = this.#root.symlinkTarget(target, linkPath);
    await symlink(stored, await this.#root.parent(linkPath));
    return statusPacket(requestId, SftpStatus.OK, '');
  }

  /** draft-02 §8 with the OpenSSH extensions of PROTOCOL §4. */
  async #extended({ requestId, extendedRequest, data }: { requestId: number; extendedRequest: string; data: Uint8Array }): Promise<Uint8Array> {
    if (this.#options.readOnly && WRITE_EXTENSIONS.has(extendedRequest)) return statusPacket(requestId, SftpStatus.PERMISSION_DENIED, 'Read-only server');
    switch (extendedRequest) {
      case SftpExtension.posixRename:
        return this.#rename({ requestId, ...decodeFields(extendedRequest, M.TwoPaths, data) }, true);
      case SftpExtension.hardlink: {
        const { oldpath, newpath } = decodeFields(extendedRequest, M.TwoPaths, data);
        await link(await this.#root.parent(oldpath), await this.#root.parent(newpath));
        return statusPacket(requestId, SftpStatus.OK, '');
      }
      case SftpExtension.fsync:
        await this.#handles.file(decodeFields(extendedRequest, M.OneHandle, data).handle).file.sync();
        return statusPacket(requestId, SftpStatus.OK, '');
      case SftpExtension.statvfs:
        return this.#statvfs(requestId, await this.#root.follow(decodeFields(extendedRequest, M.OnePath, data).path));
      case SftpExtension.fstatvfs: {
        const open: OpenFile = this.#handles.file(decodeFields(extendedRequest, M.OneHandle, data).handle);
        return this.#statvfs(requestId, await this.#root.follow(open.path));
      }
      case SftpExtension.limits: {
        decodeFields(extendedRequest, {}, data);
        const limits = { maxPacketLength: BigInt(SERVER_MAX_PACKET), maxReadLength: BigInt(MAX_READ), maxWriteLength: BigInt(MAX_READ), maxOpenHandles: BigInt(this.#options.maxHandles) };
        return M.encodePacket(M.ExtendedReply, { requestId, data: encodeFields(M.LimitsReply, limits) });
      }
      default:
        return statusPacket(requestId, SftpStatus.OP_UNSUPPORTED, `Unsupported extension ${extendedRequest}`);
    }
  }

  /** OpenSSH PROTOCOL §4.4 from statfs(2); f_flag carries ST_RDONLY (1) for read-only servers. */
  async #statvfs(requestId: number, real: string): Promise<Uint8Array> {
    const s = await statfs(real, { bigint: true });
    const reply = {
      bsize: s.bsize,
      frsize: s.bsize,
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
      favail: s.ffree,
      fsid: 0n,
      flag: this.#options.readOnly ? 1n : 0n,
      namemax: 255n,
    };
    return M.encodePacket(M.ExtendedReply, { requestId, data: encodeFields(M.StatvfsReply, reply) });
  }
}

function nameReply(requestId: number, filename: string): Uint8Array {
  return M.encodePacket(M.Name, { requestId, names: [{ filename, longname: filename, attributes: new SftpAttributes() }] });
}

/**
 * The fixed fields of READ and WRITE (draft-02 §6.4: id, handle, uint64 offset, uint32 length or
 * data length) read straight from the payload's start; undefined when they do not fit in `head`.
 */
function bulkHeader(head: Uint8Array): { requestId: number; handle: Uint8Array; offset: number; length: number; dataStart: number } | undefined {
  if (head.length < 9) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const handleLength = view.getUint32(5);
  const dataStart = 9 + handleLength + 12;
  if (head.length < dataStart) return undefined;
  const offset = view.getUint32(9 + handleLength) * 2 ** 32 + view.getUint32(13 + handleLength);
  return { requestId: view.getUint32(1), handle: head.subarray(9, 9 + handleLength), offset, length: view.getUint32(17 + handleLength), dataStart };
}

/** `pieces` without their first `n` bytes. */
function dropBytes(pieces: Uint8Array[], n: number): Uint8Array[] {
  let index = 0;
  while (index < pieces.length && n >= pieces[index]!.length) n -= pieces[index++]!.length;
  const rest = pieces.slice(index);
  if (n > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

/** The request id of a payload long enough to have one, else 0. */
export function requestIdOf(payload: Uint8Array): number {
  return payload.length < 5 ? 0 : ((payload[1]! << 24) | (payload[2]! << 16) | (payload[3]! << 8) | payload[4]!) >>> 0;
}

/** draft-02 §7 status of an errno error, with a message that names no real path. */
export function statusOfErrno(error: NodeJS.ErrnoException): { code: number; message: string } {
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { code: SftpStatus.NO_SUCH_FILE, message: 'No such file' };
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return { code: SftpStatus.PERMISSION_DENIED, message: 'Permission denied' };
    case 'ENOSYS':
      return { code: SftpStatus.OP_UNSUPPORTED, message: 'Operation unsupported' };
    default:
      return { code: SftpStatus.FAILURE, message: `Failure (${error.code ?? 'unknown error'})` };
  }
}
