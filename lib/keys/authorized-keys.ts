/**
 * Parsing one line of an OpenSSH authorized_keys file (sshd(8) "AUTHORIZED_KEYS FILE FORMAT"):
 * optional comma-separated options (`no-pty`, `from="..."` with backslash-escaped quotes), the key
 * and its comment. Enforcing the options is the server's business, not this module's.
 */
import { KeyError } from '../errors.js';
import type { KeyPair } from './key-pair.js';
import { isSshKeyType, parseSshPublicKey } from './formats/ssh-public.js';

/** One option of an authorized_keys line; `value` is undefined for flags such as `no-pty`. */
export interface AuthorizedKeyOption {
  name: string;
  value: string | undefined;
}

/** A parsed authorized_keys line. */
export interface AuthorizedKey {
  options: AuthorizedKeyOption[];
  key: KeyPair;
  comment: string;
}

/** Splits the options field at unquoted commas, ending at the first unquoted whitespace. */
function readOptions(line: string): { options: AuthorizedKeyOption[]; rest: string } {
  const options: AuthorizedKeyOption[] = [];
  let i = 0;
  while (i < line.length) {
    let name = '';
    while (i < line.length && !/[=,\s]/.test(line[i]!)) name += line[i++];
    let value: string | undefined;
    if (line[i] === '=') {
      i++;
      if (line[i] !== '"') throw new KeyError(`authorized_keys option ${name} must have a double-quoted value`);
      value = '';
      for (i++; ; i++) {
        if (i >= line.length) throw new KeyError(`authorized_keys option ${name} has an unterminated quoted value`);
        if (line[i] === '\\' && line[i + 1] === '"') {
          value += '"';
          i++;
        } else if (line[i] === '"') {
          i++;
          break;
        } else {
          value += line[i];
        }
      }
    }
    if (name === '') throw new KeyError(`authorized_keys line has an empty option at column ${i + 1}`);
    options.push({ name, value });
    if (line[i] === ',') {
      i++;
      continue;
    }
    if (i < line.length && !/\s/.test(line[i]!)) throw new KeyError(`authorized_keys option ${name} is followed by "${line[i]}"`);
    break;
  }
  return { options, rest: line.slice(i) };
}

/**
 * Parses one authorized_keys line.
 * @returns undefined for blank lines and `#` comments
 * @throws KeyError for a malformed option list or key
 * @example parseAuthorizedKeysLine('from="10.0.0.0/8",no-pty ssh-ed25519 AAAA... alice@laptop')
 */
export function parseAuthorizedKeysLine(line: string): AuthorizedKey | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const firstToken = trimmed.split(/\s/, 1)[0]!;
  let options: AuthorizedKeyOption[] = [];
  let rest = trimmed;
  if (/^(ssh-|ecdsa-|sk-)/.test(firstToken) && !isSshKeyType(firstToken)) {
    throw new KeyError(`Unsupported key type ${firstToken.slice(0, 60)} in authorized_keys line`);
  }
  if (!isSshKeyType(firstToken)) ({ options, rest } = readOptions(trimmed));
  const key = parseSshPublicKey(rest);
  return { options, key, comment: key.comment };
}
