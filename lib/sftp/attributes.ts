/**
 * SFTP file attributes (draft-ietf-secsh-filexfer-02 §5): the ATTRS wire field for the schema
 * codec and the `SftpAttributes` value both sides use. Times are whole seconds since the epoch,
 * `mode` holds the file type bits as well as the permissions (as `stat(2)`'s st_mode).
 */
import { ProtocolError } from '../errors.js';
import type { Field } from '../codec/schema.js';
import type { SshReader, SshWriter } from '../codec/wire.js';
import { AttrFlags } from './constants.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Attributes to set (`setstat`, `mkdir`, `open`): every field optional. */
export interface SftpAttributesInit {
  size?: number;
  uid?: number;
  gid?: number;
  /** Permission bits (and, when read back, the file type bits). */
  mode?: number;
  /** Seconds since the epoch; sent together with `mtime`. */
  atime?: number;
  /** Seconds since the epoch; sent together with `atime`. */
  mtime?: number;
  /** draft-02 §5 extended attributes, name → data. */
  extended?: ReadonlyMap<string, Uint8Array>;
}

/**
 * draft-ietf-secsh-filexfer-02 §5: what `stat`, `lstat`, `fstat` and `readdir` return. A field the
 * peer did not send is undefined.
 */
export class SftpAttributes implements SftpAttributesInit {
  size?: number;
  uid?: number;
  gid?: number;
  mode?: number;
  atime?: number;
  mtime?: number;
  extended?: ReadonlyMap<string, Uint8Array>;

  constructor(init: SftpAttributesInit = {}) {
    for (const key of ['size', 'uid', 'gid', 'mode', 'atime', 'mtime', 'extended'] as const) {
      if (init[key] !== undefined) (this as Record<string, unknown>)[key] = init[key];
    }
  }

  /** True for a regular file (from the type bits of `mode`). */
  isFile(): boolean {
    return this.mode !== undefined && (this.mode & S_IFMT) === S_IFREG;
  }

  /** True for a directory. */
  isDirectory(): boolean {
    return this.mode !== undefined && (this.mode & S_IFMT) === S_IFDIR;
  }

  /** True for a symbolic link (only `lstat` and `readdir` report links). */
  isSymbolicLink(): boolean {
    return this.mode !== undefined && (this.mode & S_IFMT) === S_IFLNK;
  }
}

/** draft-02 §5: the flags word for the fields present in `a`. */
function flagsOf(a: SftpAttributesInit): number {
  let flags = 0;
  if (a.size !== undefined) flags |= AttrFlags.size;
  if (a.uid !== undefined || a.gid !== undefined) flags |= AttrFlags.uidgid;
  if (a.mode !== undefined) flags |= AttrFlags.permissions;
  if (a.atime !== undefined || a.mtime !== undefined) flags |= AttrFlags.acmodtime;
  if (a.extended !== undefined && a.extended.size > 0) flags |= AttrFlags.extended;
  return flags >>> 0;
}

function pair(name: string, a: number | undefined, b: number | undefined): [number, number] {
  if (a === undefined || b === undefined) throw new RangeError(`SFTP attributes need both ${name} or neither`);
  return [a, b];
}

/** draft-ietf-secsh-filexfer-02 §5 */
export function writeAttributes(w: SshWriter, a: SftpAttributesInit): void {
  const flags = flagsOf(a);
  w.uint32(flags);
  if (flags & AttrFlags.size) w.uint64(BigInt(a.size!));
  if (flags & AttrFlags.uidgid) {
    const [uid, gid] = pair('uid and gid', a.uid, a.gid);
    w.uint32(uid).uint32(gid);
  }
  if (flags & AttrFlags.permissions) w.uint32(a.mode! >>> 0);
  if (flags & AttrFlags.acmodtime) {
    const [atime, mtime] = pair('atime and mtime', a.atime, a.mtime);
    w.uint32(atime >>> 0).uint32(mtime >>> 0);
  }
  if (flags & AttrFlags.extended) {
    w.uint32(a.extended!.size);
    for (const [name, data] of a.extended!) w.string(name).string(data);
  }
}

/** draft-ietf-secsh-filexfer-02 §5; unknown flag bits are refused (their fields' sizes are unknown). */
export function readAttributes(r: SshReader): SftpAttributes {
  const at = r.offset;
  const flags = r.uint32();
  const known = AttrFlags.size | AttrFlags.uidgid | AttrFlags.permissions | AttrFlags.acmodtime | AttrFlags.extended;
  if ((flags & ~known) !== 0) {
    throw new ProtocolError(`${r.context || 'ATTRS'}: unknown attribute flags 0x${(flags >>> 0).toString(16)} at offset ${at}`);
  }
  const a = new SftpAttributes();
  if (flags & AttrFlags.size) a.size = Number(r.uint64());
  if (flags & AttrFlags.uidgid) {
    a.uid = r.uint32();
    a.gid = r.uint32();
  }
  if (flags & AttrFlags.permissions) a.mode = r.uint32();
  if (flags & AttrFlags.acmodtime) {
    a.atime = r.uint32();
    a.mtime = r.uint32();
  }
  if (flags & AttrFlags.extended) {
    const count = r.uint32();
    // Each pair takes at least 8 bytes: a count beyond that is a lie, refused before looping.
    if (count * 8 > r.remaining) throw new ProtocolError(`${r.context || 'ATTRS'}: ${count} extended attributes cannot fit in ${r.remaining} bytes`);
    const extended = new Map<string, Uint8Array>();
    for (let i = 0; i < count; i++) extended.set(r.utf8(), r.string().slice());
    a.extended = extended;
  }
  return a;
}

/** The ATTRS wire field for message declarations. */
export const attrs: Field<SftpAttributes> = { read: readAttributes, write: writeAttributes };
