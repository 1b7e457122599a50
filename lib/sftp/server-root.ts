/**
 * Confinement of every SFTP path to the served root. A client path is virtual: `/` is the root,
 * relative paths start there, and `..` stops at it. Symbolic links are resolved by the kernel and
 * then checked: a path whose real location is outside the root is refused, whether the link was
 * there before or created through us. Opens (files and directories) are race-free on Linux: the
 * last component is opened with O_NOFOLLOW and the descriptor's real path (/proc/self/fd) is
 * checked after the open, so swapping a component for a link between check and use gains nothing.
 * Path-only calls (stat, rename, mkdir, ...) have no descriptor form in node:fs: they act on the
 * parent's resolved real path, checked just before; a parent swapped in that window is the one race left.
 */
import { constants, type Dir } from 'node:fs';
import { open, opendir, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { SftpStatus } from './constants.js';
import { SftpError } from './sftp-error.js';

/** The confined view of one directory tree. */
export class ServerRoot {
  /** The root's real path (no symlinks, no trailing slash). */
  readonly real: string;

  /** @param real the root's real path, from `ServerRoot.create` */
  constructor(real: string) {
    this.real = real;
  }

  /** Resolves the root once: later checks compare real paths. */
  static async create(root: string): Promise<ServerRoot> {
    return new ServerRoot(await realpath(root));
  }

  /** The absolute virtual form of a client path (`..` clamped at `/`). */
  virtual(path: string): string {
    return posix.resolve('/', path);
  }

  /** True when a real path is the root or below it. */
  contains(real: string): boolean {
    return real === this.real || real.startsWith(this.real === '/' ? '/' : `${this.real}/`);
  }

  /** The virtual path of a real path inside the root. */
  toVirtual(real: string): string {
    return real === this.real ? '/' : real.slice(this.real === '/' ? 0 : this.real.length);
  }

  #escape(path: string): SftpError {
    return new SftpError(SftpStatus.PERMISSION_DENIED, 'Path leads outside the served directory', { path });
  }

  /** Resolves every symlink of `path` (it must exist) and checks the result. */
  async follow(path: string): Promise<string> {
    const real = await realpath(posix.join(this.real, this.virtual(path)));
    if (!this.contains(real)) throw this.#escape(path);
    return real;
  }

  /**
   * The real path of `path` with its parent's symlinks resolved and checked, and its last component
   * left as it is (so lstat, unlink, rename and readlink act on a link itself).
   */
  async parent(path: string): Promise<string> {
    const virtual = this.virtual(path);
    if (virtual === '/') return this.real;
    const dir = await realpath(posix.join(this.real, posix.dirname(virtual)));
    if (!this.contains(dir)) throw this.#escape(path);
    return posix.join(dir, posix.basename(virtual));
  }

  /**
   * Opens a file: the last component with O_NOFOLLOW; a symlink there is resolved, checked and
   * opened by its real path (again with O_NOFOLLOW); the descriptor is checked after the open.
   */
  async openFile(path: string, flags: number, mode: number): Promise<FileHandle> {
    // O_TRUNC waits for the descriptor check: a file reached through a swapped parent is never emptied.
    const openFlags = (flags & ~constants.O_TRUNC) | constants.O_NOFOLLOW;
    let real = await this.parent(path);
    let handle: FileHandle;
    try {
      handle = await open(real, openFlags, mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOOP' || flags & constants.O_EXCL) throw error;
      real = await this.follow(path);
      handle = await open(real, openFlags, mode);
    }
    await this.#checkDescriptor(handle, path);
    if (flags & constants.O_TRUNC) await handle.truncate(0);
    return handle;
  }

  /** Opens a directory for listing, pinned by a checked descriptor where /proc allows. */
  async openDir(path: string): Promise<Dir> {
    const real = await this.follow(path);
    const handle = await open(real, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      const pinned = await this.#checkDescriptor(handle, path);
      return await opendir(pinned ? `/proc/self/fd/${handle.fd}` : real, { bufferSize: 128 });
    } finally {
      await handle.close();
    }
  }

  /**
   * Checks where an open descriptor really is (Linux /proc); closes it and refuses when outside.
   * @returns false when /proc cannot tell (other systems): the path checks before the open stand alone
   */
  async #checkDescriptor(handle: FileHandle, path: string): Promise<boolean> {
    let real: string;
    try {
      real = await readlink(`/proc/self/fd/${handle.fd}`);
    } catch {
      return false;
    }
    if (this.contains(real)) return true;
    await handle.close();
    throw this.#escape(path);
  }

  /**
   * The text stored for a new symlink at `linkPath` pointing at `target`: an absolute target is
   * taken as virtual and stored as its real path; a relative one is kept as written once it is
   * known not to climb above the root from the link's directory.
   * @throws SftpError PERMISSION_DENIED for a target that leaves the root
   */
  symlinkTarget(target: string, linkPath: string): string {
    if (target.startsWith('/')) return posix.join(this.real, posix.normalize(target));
    let depth = this.virtual(posix.dirname(this.virtual(linkPath))).split('/').filter(Boolean).length;
    for (const part of target.split('/')) {
      if (part === '..') depth--;
      else if (part !== '' && part !== '.') depth++;
      if (depth < 0) throw new SftpError(SftpStatus.PERMISSION_DENIED, `Link target ${target} leads outside the served directory`, { path: linkPath });
    }
    return target;
  }

  /** What READLINK shows for a stored target: real paths inside the root become virtual ones. */
  linkText(stored: string): string {
    return stored.startsWith('/') && this.contains(stored) ? this.toVirtual(stored) : stored;
  }
}
