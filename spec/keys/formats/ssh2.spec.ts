import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../lib/keys/index.js';
import { formatSsh2PublicKey, parseSsh2PublicKey } from '../../../lib/keys/formats/ssh2.js';

describe('RFC 4716 public keys', () => {
  it('reads continued headers, x- headers and quoted comments', async () => {
    const key = await generateKeyPair('ssh-ed25519');
    const base64 = Buffer.from(key.publicKeyBlob).toString('base64');
    const text = [
      '---- BEGIN SSH2 PUBLIC KEY ----',
      'Comment: "a comment that is \\',
      'continued"',
      'x-command: /bin/true',
      base64.slice(0, 40),
      base64.slice(40),
      '---- END SSH2 PUBLIC KEY ----',
    ].join('\n');
    const { key: parsed, headers } = parseSsh2PublicKey(text);
    expect(parsed.equals(key)).toBe(true);
    expect(parsed.comment).toBe('a comment that is continued');
    expect(headers.get('x-command')).toBe('/bin/true');
  });

  it('writes lines of at most 70 base64 characters and no Comment header without a comment', async () => {
    const key = await generateKeyPair('rsa-sha2-256', { keySize: 2048 });
    const text = formatSsh2PublicKey(key);
    expect(text).not.toContain('Comment');
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBe(70);
  });

  it('refuses a missing END line and a bad body', () => {
    expect(() => parseSsh2PublicKey('---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n')).toThrow(/expected "---- BEGIN SSH2 PUBLIC KEY ----" \.\.\. "---- END SSH2 PUBLIC KEY ----"/);
    expect(() => parseSsh2PublicKey('---- BEGIN SSH2 PUBLIC KEY ----\nAAAAB3Nz\n---- END SSH2 PUBLIC KEY ----')).toThrow(/^Invalid SSH2 public key/);
  });
});
