/**
 * What the server sends about a file: ATTRS from node:fs Stats (draft-ietf-secsh-filexfer-02 §5)
 * and the `ls -l` style longname of READDIR entries (draft-02 §7), with numeric owner and group.
 */
import type { Stats } from 'node:fs';
import { SftpAttributes } from './attributes.js';

/** draft-02 §5 attributes of a node:fs Stats. */
export function attributesOf(stats: Stats): SftpAttributes {
  return new SftpAttributes({
    size: stats.size,
    uid: stats.uid,
    gid: stats.gid,
    mode: stats.mode,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  });
}

const TYPE_CHARS: Record<number, string> = {
  0o140000: 's',
  0o120000: 'l',
  0o100000: '-',
  0o060000: 'b',
  0o040000: 'd',
  0o020000: 'c',
  0o010000: 'p',
};

/** `drwxr-xr-x` from st_mode, with setuid, setgid and sticky shown as ls shows them. */
export function modeString(mode: number): string {
  const bits = (shift: number, special: number, specialChar: string): string => {
    const r = mode & (0o4 << shift) ? 'r' : '-';
    const w = mode & (0o2 << shift) ? 'w' : '-';
    const x = mode & (0o1 << shift);
    const s = mode & special;
    return r + w + (s ? (x ? specialChar : specialChar.toUpperCase()) : x ? 'x' : '-');
  };
  return (TYPE_CHARS[mode & 0o170000] ?? '?') + bits(6, 0o4000, 's') + bits(3, 0o2000, 's') + bits(0, 0o1000, 't');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

/**
 * One `ls -l` line: mode, links, owner, group, size, date (time within six months, else year), name.
 * @param now the clock, injected for tests
 */
export function longname(name: string, stats: Stats, now = Date.now()): string {
  const date = new Date(stats.mtimeMs);
  const day = `${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2)}`;
  const recent = Math.abs(now - stats.mtimeMs) < SIX_MONTHS_MS;
  const when = recent ? `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}` : ` ${date.getFullYear()}`;
  const owner = String(stats.uid).padEnd(8);
  const group = String(stats.gid).padEnd(8);
  return `${modeString(stats.mode)} ${String(stats.nlink).padStart(3)} ${owner} ${group} ${String(stats.size).padStart(8)} ${day} ${when} ${name}`;
}
