/**
 * The SSH2 public key file format of RFC 4716: `---- BEGIN SSH2 PUBLIC KEY ----` armor, header
 * lines (`Comment`, `Subject`, `x-*`) with backslash continuation, and the base64 public key blob.
 * Private keys in the ssh.com format are not handled here.
 */
import { KeyError } from '../../errors.js';
import { utf8Encode } from '../../codec/wire.js';
import { base64Encode } from '../encoding.js';
import { KeyPair } from '../key-pair.js';
import { decodeBase64, parseAs } from './invalid.js';

const begin = '---- BEGIN SSH2 PUBLIC KEY ----';
const end = '---- END SSH2 PUBLIC KEY ----';

/** True when `text` holds an RFC 4716 public key. */
export function isSsh2PublicKey(text: string): boolean {
  return text.includes(begin);
}

/** RFC 4716 §3: a parsed public key file; `headers` keeps every header, names as written. */
export function parseSsh2PublicKey(text: string): { key: KeyPair; headers: Map<string, string> } {
  const from = text.indexOf(begin);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new KeyError(`Invalid SSH2 public key: expected "${begin}" ... "${end}"`);
  const lines = text.slice(from + begin.length, to).split(/\r?\n/);
  const headers = new Map<string, string>();
  const body: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '') continue;
    if (body.length === 0 && line.includes(':')) {
      // RFC 4716 §3.3: a trailing backslash continues the header on the next line.
      while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      let value = line.slice(colon + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      headers.set(name, value);
    } else {
      body.push(line);
    }
  }
  const blob = decodeBase64(body.join(''), 'SSH2 public key body');
  const comment = [...headers].find(([name]) => name.toLowerCase() === 'comment')?.[1];
  const key = parseAs('SSH2 public key', () => KeyPair.fromPublicKeyBlob(blob, comment));
  return { key, headers };
}

/** RFC 4716 §3.3: header lines are at most 72 bytes; longer ones are split with a backslash. */
function headerLines(name: string, value: string): string[] {
  const whole = `${name}: ${value}`;
  const out: string[] = [];
  let rest = whole;
  while (utf8Encode(rest).length > 72) {
    let cut = 71;
    // Never split a UTF-16 surrogate pair; the byte limit is respected on the conservative side.
    while (utf8Encode(rest.slice(0, cut)).length > 71) cut--;
    out.push(`${rest.slice(0, cut)}\\`);
    rest = rest.slice(cut);
  }
  out.push(rest);
  return out;
}

/** RFC 4716 §3: formats `key` with a quoted `Comment` header when it has a comment. */
export function formatSsh2PublicKey(key: KeyPair): string {
  const lines = [begin];
  if (key.comment) lines.push(...headerLines('Comment', `"${key.comment}"`));
  const base64 = base64Encode(key.publicKeyBlob);
  for (let i = 0; i < base64.length; i += 70) lines.push(base64.slice(i, i + 70));
  lines.push(end, '');
  return lines.join('\n');
}
