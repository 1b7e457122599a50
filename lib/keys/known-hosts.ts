/**
 * OpenSSH known_hosts lines (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): markers, host patterns with
 * `*`, `?` and `!` negation, `[host]:port` entries and hashed `|1|salt|hash` names (HMAC-SHA1 of
 * the host name keyed by the salt). Deciding trust from matches is the caller's policy.
 */
import { KeyError } from '../errors.js';
import { utf8Encode } from '../codec/wire.js';
import { base64DecodeOrUndefined } from './encoding.js';
import { keySuite } from './suite.js';
import type { KeyPair } from './key-pair.js';
import { parseSshPublicKey } from './formats/ssh-public.js';

/** A parsed known_hosts line. */
export interface KnownHostsEntry {
  /** `@cert-authority` or `@revoked` when the line carries a marker. */
  marker: '@cert-authority' | '@revoked' | undefined;
  /** The comma-separated host patterns as written (hashed names stay hashed). */
  hosts: string[];
  key: KeyPair;
  comment: string;
}

/**
 * Parses one known_hosts line.
 * @returns undefined for blank lines and `#` comments
 * @throws KeyError for an unknown marker or a malformed key
 * @example parseKnownHostsLine('[example.com]:2222 ssh-ed25519 AAAA...')
 */
export function parseKnownHostsLine(line: string): KnownHostsEntry | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const fields = trimmed.split(/\s+/);
  let marker: KnownHostsEntry['marker'];
  if (fields[0]!.startsWith('@')) {
    const value = fields.shift()!;
    if (value !== '@cert-authority' && value !== '@revoked') throw new KeyError(`Unknown known_hosts marker ${value.slice(0, 40)}`);
    marker = value;
  }
  const hosts = fields.shift();
  if (!hosts || fields.length < 2) throw new KeyError('Invalid known_hosts line: expected "[marker] hosts key-type base64-key [comment]"');
  const key = parseSshPublicKey(fields.join(' '));
  return { marker, hosts: hosts.split(','), key, comment: key.comment };
}

/** sshd(8) PATTERNS: `*` matches any run, `?` one character; case-insensitive like OpenSSH's match_pattern. */
function wildcardMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const s = name.toLowerCase();
  // Iterative glob with backtracking to the last star: linear in practice, no regex injection.
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** OpenSSH hostfile.c: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. */
function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = base64DecodeOrUndefined(parts[2]!);
  const expected = base64DecodeOrUndefined(parts[3]!);
  if (!salt || !expected) return false;
  const actual = keySuite().hmac('sha1', salt, utf8Encode(name));
  if (expected.length !== actual.length) return false;
  // Constant time over the digest, as a hashed name should not leak by timing.
  let difference = 0;
  for (let i = 0; i < actual.length; i++) difference |= actual[i]! ^ expected[i]!;
  return difference === 0;
}

/**
 * True when `entry` applies to `host` (on `port`; 22 and undefined mean the default port, which
 * is written bare, other ports as `[host]:port`). A matching negated pattern excludes the host.
 * @example knownHostsMatches(entry, 'example.com', 2222)
 */
export function knownHostsMatches(entry: KnownHostsEntry, host: string, port?: number): boolean {
  const name = port === undefined || port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
  let matched = false;
  for (const raw of entry.hosts) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const hit = pattern.startsWith('|') ? hashedMatches(pattern, name) : wildcardMatches(pattern, name);
    if (hit && negated) return false;
    matched ||= hit;
  }
  return matched;
}
