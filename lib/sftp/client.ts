/**
 * The SFTP client (draft-ietf-secsh-filexfer-02, version 3, plus the OpenSSH extensions of PROTOCOL
 * §4) over one session channel. Every operation is one or a few requests on the shared link, so
 * any number of them (and of file streams) run at once over the one channel.
 */
import { decodeFields, encodeFields } from '../codec/schema.js';
import { concatBytes } from '../codec/wire.js';
import type { SshSession } from '../ssh-session.js';
import { SftpAttributes, type SftpAttributesInit } from './attributes.js';
import { ClientLink } from './client-link.js';
import { hasReversedSymlink, OpenFlags, SftpExtension, SftpStatus } from './constants.js';
import * as M from './messages.js';
import { createSftpReadStream, type SftpReadStreamOptions } from './read-stream.js';
import { expectAttrs, expectData, expectExtendedReply, expectHandle, expectNames, expectOk } from './responses.js';
import { SftpError } from './sftp-error.js';
import { createSftpWriteStream, type SftpWriteStreamOptions } from './write-stream.js';

/** READ/WRITE size without limits@openssh.com (what OpenSSH's sftp uses by default). */
const DEFAULT_CHUNK = 32 * 1024;
/** Requests a stream keeps in flight at the default 32 KiB (2 MiB, OpenSSH's sftp default). */
const DEFAULT_CONCURRENCY = 64;
/** Bytes a stream keeps in flight when the server allows larger requests: fewer, not more, requests. */
const MAX_IN_FLIGHT = 4 * 1024 * 1024;
/** Largest READ/WRITE we ask for even when a server allows more. */
const MAX_CHUNK = 256 * 1024 - 1024;

/** What limits@openssh.com reported (OpenSSH PROTOCOL §4.8); 0 handles means no limit. */
export interface SftpLimits {
  maxPacketLength: number;
  maxReadLength: number;
  maxWriteLength: number;
  maxOpenHandles: number;
}

/** Options of `SftpClient.open`. */
export interface SftpClientOptions {
  /** Largest response packet accepted (default 1 MiB + 1 KiB). */
  maxPacketLength?: number;
}

/** An open remote file (draft-02 §6.3): positional reads and writes, attributes, sync, close. */
export class SftpFile {
  /** The path it was opened with. */
  readonly path: string;
  /** The server's opaque handle. */
  readonly handle: Uint8Array;
  readonly #client: SftpClient;

  constructor(client: SftpClient, path: string, handle: Uint8Array) {
    this.#client = client;
    this.path = path;
    this.handle = handle;
  }

  /** draft-02 §6.4: up to `length` bytes at `offset`; empty at end of file. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const data = expectData(await this.#client.link.read(this.handle, offset, length), this.path);
    return data === undefined ? new Uint8Array(0) : concatBytes(...data);
  }

  /** draft-02 §6.4 */
  async write(offset: number, data: Uint8Array): Promise<void> {
    expectOk(await this.#client.link.write(this.handle, offset, data).response, this.path);
  }

  /** draft-02 §6.8 FSTAT */
  async stat(): Promise<SftpAttributes> {
    return expectAttrs(await this.#client.link.request(M.Fstat, { handle: this.handle }), this.path);
  }

  /** draft-02 §6.9 FSETSTAT */
  async setstat(attributes: SftpAttributesInit): Promise<void> {
    expectOk(await this.#client.link.request(M.Fsetstat, { handle: this.handle, attrs: new SftpAttributes(attributes) }), this.path);
  }

  /** OpenSSH PROTOCOL §4.4 fstatvfs@openssh.com: the file system holding this file. */
  async statvfs(): Promise<M.SftpStatvfs> {
    const reply = await this.#client.extended(SftpExtension.fstatvfs, encodeFields(M.OneHandle, { handle: this.handle }), this.path, false);
    return decodeFields('fstatvfs@openssh.com', M.StatvfsReply, reply);
  }

  /** OpenSSH PROTOCOL §4.6 fsync@openssh.com. */
  async sync(): Promise<void> {
    await this.#client.extended(SftpExtension.fsync, encodeFields(M.OneHandle, { handle: this.handle }), this.path, true);
  }

  /** draft-02 §6.3 CLOSE */
  async close(): Promise<void> {
    expectOk(await this.#client.link.request(M.Close, { handle: this.handle }), this.path);
  }
}

/**
 * An SFTP session on one channel of an SSH session.
 * @example
 * const sftp = await SftpClient.open(session);
 * await (await fetch(url)).body!.pipeTo(sftp.createWriteStream('/upload/file.bin'));
 * await sftp.close();
 */
export class SftpClient {
  /** @internal the request link (used by SftpFile). */
  readonly link: ClientLink;
  /** Extensions the server announced in VERSION, name → version. */
  readonly extensions: ReadonlyMap<string, string>;
  /** limits@openssh.com, when the server offers it. */
  readonly limits: SftpLimits | undefined;
  readonly #reversedSymlink: boolean;

  /** @internal use `SftpClient.open`. */
  constructor(link: ClientLink, init: { extensions: Map<string, string>; limits?: SftpLimits; reversedSymlink: boolean }) {
    this.link = link;
    this.extensions = init.extensions;
    this.limits = init.limits;
    this.#reversedSymlink = init.reversedSymlink;
  }

  /**
   * Opens a session channel, starts the `sftp` subsystem (RFC 4254 §6.5), exchanges INIT/VERSION
   * and reads limits@openssh.com when offered.
   * @param session an authenticated client session
   * @param options response size limit
   * @returns the ready client
   * @throws SftpError OP_UNSUPPORTED when the server refuses the subsystem or speaks another version
   */
  static async open(session: Pick<SshSession, 'openChannel' | 'remoteVersion'>, options: SftpClientOptions = {}): Promise<SftpClient> {
    const channel = await session.openChannel('session');
    if (!(await channel.subsystem('sftp'))) {
      await channel.close();
      throw new SftpError(SftpStatus.OP_UNSUPPORTED, 'Server refused the sftp subsystem');
    }
    const link = new ClientLink(channel, options.maxPacketLength ?? 1024 * 1024 + 1024);
    try {
      const extensions = await link.handshake();
      let limits: SftpLimits | undefined;
      if (extensions.has(SftpExtension.limits)) {
        const reply = expectExtendedReply(await link.request(M.Extended, { extendedRequest: SftpExtension.limits, data: new Uint8Array(0) }));
        const raw = decodeFields('limits@openssh.com', M.LimitsReply, reply);
        limits = {
          maxPacketLength: Number(raw.maxPacketLength),
          maxReadLength: Number(raw.maxReadLength),
          maxWriteLength: Number(raw.maxWriteLength),
          maxOpenHandles: Number(raw.maxOpenHandles),
        };
      }
      return new SftpClient(link, { extensions, limits, reversedSymlink: hasReversedSymlink(session.remoteVersion) });
    } catch (error) {
      await link.close();
      throw error;
    }
  }

  /** draft-02 §6.8 STAT: follows symbolic links. */
  async stat(path: string): Promise<SftpAttributes> {
    return expectAttrs(await this.link.request(M.Stat, { path }), path);
  }

  /** draft-02 §6.8 LSTAT: a symbolic link itself. */
  async lstat(path: string): Promise<SftpAttributes> {
    return expectAttrs(await this.link.request(M.Lstat, { path }), path);
  }

  /** draft-02 §6.8 FSTAT of an open file. */
  fstat(file: SftpFile): Promise<SftpAttributes> {
    return file.stat();
  }

  /**
   * draft-02 §6.3 OPEN.
   * @param flags 'r' (default), 'r+', 'w', 'a' or 'wx', as node:fs
   */
  async open(path: string, flags: 'r' | 'r+' | 'w' | 'a' | 'wx' = 'r', attributes: SftpAttributesInit = {}): Promise<SftpFile> {
    const pflags = {
      r: OpenFlags.read,
      'r+': OpenFlags.read | OpenFlags.write,
      w: OpenFlags.write | OpenFlags.creat | OpenFlags.trunc,
      a: OpenFlags.write | OpenFlags.creat | OpenFlags.append,
      wx: OpenFlags.write | OpenFlags.creat | OpenFlags.excl,
    }[flags];
    if (pflags === undefined) throw new RangeError(`Unknown open flags '${String(flags)}'`);
    const handle = expectHandle(await this.link.request(M.Open, { filename: path, pflags, attrs: new SftpAttributes(attributes) }), path);
    return new SftpFile(this, path, handle);
  }

  /**
   * draft-02 §6.7: every entry of a directory, over as many READDIR batches as the server sends
   * (`.` and `..` left out).
   */
  async readdir(path: string): Promise<M.SftpName[]> {
    const handle = expectHandle(await this.link.request(M.Opendir, { path }), path);
    const entries: M.SftpName[] = [];
    try {
      for (;;) {
        const batch = expectNames(await this.link.request(M.Readdir, { handle }), path);
        if (batch === undefined) break;
        for (const entry of batch) if (entry.filename !== '.' && entry.filename !== '..') entries.push(entry);
      }
    } finally {
      const closed = this.link.request(M.Close, { handle });
      closed.catch(() => {});
    }
    return entries;
  }

  /** draft-02 §6.6 */
  async mkdir(path: string, options: { mode?: number } = {}): Promise<void> {
    const attrs = new SftpAttributes(options.mode === undefined ? {} : { mode: options.mode });
    expectOk(await this.link.request(M.Mkdir, { path, attrs }), path);
  }

  /** draft-02 §6.6 */
  async rmdir(path: string): Promise<void> {
    expectOk(await this.link.request(M.Rmdir, { path }), path);
  }

  /** draft-02 §6.5 REMOVE (a file or link). */
  async remove(path: string): Promise<void> {
    expectOk(await this.link.request(M.Remove, { filename: path }), path);
  }

  /**
   * Renames, replacing `to` when the server offers posix-rename@openssh.com (OpenSSH PROTOCOL §4.3);
   * plain RENAME (draft-02 §6.5) otherwise, which fails when `to` exists.
   */
  async rename(from: string, to: string): Promise<void> {
    if (this.extensions.has(SftpExtension.posixRename)) {
      await this.extended(SftpExtension.posixRename, encodeFields(M.TwoPaths, { oldpath: from, newpath: to }), from, true);
      return;
    }
    expectOk(await this.link.request(M.Rename, { oldpath: from, newpath: to }), from);
  }

  /** draft-02 §6.11: the canonical absolute form of `path`. */
  async realpath(path: string): Promise<string> {
    return this.#singleName(await this.link.request(M.Realpath, { path }), path);
  }

  /** draft-02 §6.10: the target of a symbolic link. */
  async readlink(path: string): Promise<string> {
    return this.#singleName(await this.link.request(M.Readlink, { path }), path);
  }

  /** draft-02 §6.10: creates `linkPath` pointing at `target` (argument order fixed per server, PROTOCOL §4.1). */
  async symlink(target: string, linkPath: string): Promise<void> {
    const fields = this.#reversedSymlink ? { linkpath: target, targetpath: linkPath } : { linkpath: linkPath, targetpath: target };
    expectOk(await this.link.request(M.Symlink, fields), linkPath);
  }

  /** draft-02 §6.9: sets the given attributes; a lone atime or mtime keeps the other's current value. */
  async setstat(path: string, attributes: SftpAttributesInit): Promise<void> {
    let attrs = new SftpAttributes(attributes);
    if ((attrs.atime === undefined) !== (attrs.mtime === undefined)) {
      const current = await this.stat(path);
      attrs = new SftpAttributes({ ...attributes, atime: attrs.atime ?? current.atime, mtime: attrs.mtime ?? current.mtime });
    }
    expectOk(await this.link.request(M.Setstat, { path, attrs }), path);
  }

  /** OpenSSH PROTOCOL §4.4 statvfs@openssh.com. */
  async statvfs(path: string): Promise<M.SftpStatvfs> {
    const reply = await this.extended(SftpExtension.statvfs, encodeFields(M.OnePath, { path }), path, false);
    return decodeFields('statvfs@openssh.com', M.StatvfsReply, reply);
  }

  /** OpenSSH PROTOCOL §4.5 hardlink@openssh.com: `newPath` becomes another name of `existing`. */
  async hardlink(existing: string, newPath: string): Promise<void> {
    await this.extended(SftpExtension.hardlink, encodeFields(M.TwoPaths, { oldpath: existing, newpath: newPath }), newPath, true);
  }

  /**
   * A pipelined download of `path`; `end` is inclusive.
   * @example await sftp.createReadStream('/var/log/syslog').pipeTo(Writable.toWeb(process.stdout));
   */
  createReadStream(path: string, options: SftpReadStreamOptions = {}): ReadableStream<Uint8Array> {
    const chunkSize = options.chunkSize ?? clampChunk(this.limits?.maxReadLength);
    return createSftpReadStream(this.link, path, { ...options, chunkSize, concurrency: options.concurrency ?? concurrencyFor(chunkSize) });
  }

  /**
   * A pipelined upload to `path`; `write()` waits while the pipeline is full.
   * @example await Readable.toWeb(createReadStream('big.iso')).pipeTo(sftp.createWriteStream('/srv/big.iso'));
   */
  createWriteStream(path: string, options: SftpWriteStreamOptions = {}): WritableStream<Uint8Array> {
    const chunkSize = options.chunkSize ?? clampChunk(this.limits?.maxWriteLength);
    return createSftpWriteStream(this.link, path, { ...options, chunkSize, concurrency: options.concurrency ?? concurrencyFor(chunkSize) });
  }

  /** The whole file. */
  async readFile(path: string): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.createReadStream(path) as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return concatBytes(...chunks);
  }

  /** Creates or replaces `path` with `data`. */
  async writeFile(path: string, data: Uint8Array | string, options: Pick<SftpWriteStreamOptions, 'flags' | 'mode'> = {}): Promise<void> {
    const writer = this.createWriteStream(path, options).getWriter();
    await writer.write(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    await writer.close();
  }

  /** Ends the SFTP session and closes its channel; pending requests reject with NO_CONNECTION. */
  close(): Promise<void> {
    return this.link.close();
  }

  /**
   * @internal draft-02 §8 EXTENDED for an extension the server must have announced.
   * @returns the EXTENDED_REPLY data (empty for `statusReply` extensions)
   */
  async extended(name: string, data: Uint8Array, path: string | undefined, statusReply: boolean): Promise<Uint8Array> {
    if (!this.extensions.has(name)) throw new SftpError(SftpStatus.OP_UNSUPPORTED, `Server does not offer ${name}`, { path });
    const reply = await this.link.request(M.Extended, { extendedRequest: name, data });
    if (statusReply) {
      expectOk(reply, path);
      return new Uint8Array(0);
    }
    return expectExtendedReply(reply, path);
  }

  #singleName(payload: Uint8Array, path: string): string {
    const names = expectNames(payload, path);
    if (names === undefined || names.length !== 1) {
      throw new SftpError(SftpStatus.BAD_MESSAGE, `Server sent ${names?.length ?? 0} names where 1 was due`, { path });
    }
    return names[0]!.filename;
  }
}

/** 64 requests of 32 KiB; with larger requests (limits@openssh.com), as many as fit in 4 MiB, at least 8. */
function concurrencyFor(chunkSize: number): number {
  return Math.max(8, Math.min(DEFAULT_CONCURRENCY, Math.floor(MAX_IN_FLIGHT / chunkSize)));
}

function clampChunk(limit: number | undefined): number {
  return limit === undefined || limit <= 0 ? DEFAULT_CHUNK : Math.min(limit, MAX_CHUNK);
}
