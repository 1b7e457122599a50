/**
 * The server's open files and directories (draft-ietf-secsh-filexfer-02 §6.3, §6.7), at most
 * `max` at a time per session. A handle on the wire is 4 bytes of a counter that does not repeat
 * within a session, so a stale handle never reaches a newer file. `closeAll` runs when the channel ends.
 */
import type { Dir } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { SftpStatus } from './constants.js';
import { SftpError } from './sftp-error.js';

/** An open file: its descriptor and the virtual path it was opened by. */
export interface OpenFile {
  kind: 'file';
  file: FileHandle;
  path: string;
  /** The file's identity (device and inode), shared by every handle on it. */
  key: string;
  /** Opened with O_APPEND: writes land at the end whatever their offset. */
  append: boolean;
}

/** An open directory listing. */
export interface OpenDir {
  kind: 'dir';
  dir: Dir;
  path: string;
  /** The directory's real path, to lstat its entries. */
  real: string;
}

type Entry = OpenFile | OpenDir;

/** Handles of one SFTP session. */
export class HandleTable {
  readonly #entries = new Map<number, Entry>();
  readonly #max: number;
  #next = 1;

  /** @param max open handles allowed at once */
  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** True when no further handle may be opened. */
  get full(): boolean {
    return this.#entries.size >= this.#max;
  }

  /** Registers an open file or directory; returns its wire handle. */
  add(entry: Entry): Uint8Array {
    const id = this.#next++;
    this.#entries.set(id, entry);
    const handle = new Uint8Array(4);
    new DataView(handle.buffer).setUint32(0, id);
    return handle;
  }

  /** The open file of a handle, or undefined. */
  findFile(handle: Uint8Array): OpenFile | undefined {
    const entry = this.#get(handle);
    return entry?.kind === 'file' ? entry : undefined;
  }

  /** @throws SftpError FAILURE for a handle that is not open (or of the wrong kind) */
  file(handle: Uint8Array): OpenFile {
    const entry = this.#get(handle);
    if (entry?.kind !== 'file') throw invalid(handle);
    return entry;
  }

  /** @throws SftpError FAILURE for a handle that is not an open directory */
  dir(handle: Uint8Array): OpenDir {
    const entry = this.#get(handle);
    if (entry?.kind !== 'dir') throw invalid(handle);
    return entry;
  }

  /** Closes and forgets one handle. */
  async close(handle: Uint8Array): Promise<void> {
    const entry = this.#get(handle);
    if (entry === undefined) throw invalid(handle);
    this.#entries.delete(new DataView(handle.buffer, handle.byteOffset, 4).getUint32(0));
    await closeEntry(entry);
  }

  /** Closes every handle (the channel ended). */
  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((entry) => closeEntry(entry).catch(() => {})));
  }

  #get(handle: Uint8Array): Entry | undefined {
    if (handle.length !== 4) return undefined;
    return this.#entries.get(new DataView(handle.buffer, handle.byteOffset, 4).getUint32(0));
  }
}

function closeEntry(entry: Entry): Promise<void> {
  return entry.kind === 'file' ? entry.file.close() : entry.dir.close();
}

function invalid(handle: Uint8Array): SftpError {
  return new SftpError(SftpStatus.FAILURE, `Invalid handle of ${handle.length} bytes`);
}
