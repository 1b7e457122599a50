/**
 * The one-line OpenSSH public key form `<key type> <base64 blob> [comment]` (sshd(8)
 * AUTHORIZED_KEYS FILE FORMAT without options; RFC 4253 §6.6 blobs). Options and host patterns
 * belong to authorized-keys.ts and known-hosts.ts.
 */
import { KeyError } from '../../errors.js';
import { base64Encode } from '../encoding.js';
import { KeyPair } from '../key-pair.js';
import { decodeBase64, parseAs } from './invalid.js';

const keyTypePattern = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521))$/;

/** True when `token` names a key type this package reads. */
export function isSshKeyType(token: string): boolean {
  return keyTypePattern.test(token);
}

/** Parses `<key type> <base64> [comment]`; the type token must match the blob's own type. */
export function parseSshPublicKey(line: string): KeyPair {
  const match = /^\s*(\S+)\s+(\S+)(?:\s+(.*?))?\s*$/.exec(line);
  if (!match) throw new KeyError('Invalid SSH public key: expected "<key type> <base64 key> [comment]"');
  const [, type, base64, comment] = match as unknown as [string, string, string, string | undefined];
  if (!isSshKeyType(type)) throw new KeyError(`Unsupported SSH public key type ${type.slice(0, 40)}`);
  const blob = decodeBase64(base64, `${type} public key`);
  const key = parseAs(`${type} public key`, () => KeyPair.fromPublicKeyBlob(blob, comment));
  if (key.keyType !== type) throw new KeyError(`SSH public key line says ${type} but its blob holds ${key.keyType}`);
  return key;
}

/** Formats `key` as `<key type> <base64> [comment]`, as ssh-keygen writes `.pub` files (no newline). */
export function formatSshPublicKey(key: KeyPair): string {
  const base = `${key.keyType} ${base64Encode(key.publicKeyBlob)}`;
  return key.comment ? `${base} ${key.comment}` : base;
}
