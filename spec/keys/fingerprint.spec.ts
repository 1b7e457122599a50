import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPublicKey, generateKeyPair, getFingerprint, getPublicKeyBlob, importKey, KeyFormat, publicKeysEqual, type KeyPair } from '../../lib/keys/index.js';
import { makeWorkDir, sshKeygen, writeKeyFile } from './helpers/key-tools.js';

const work = makeWorkDir();
const keys: KeyPair[] = [];

beforeAll(async () => {
  keys.push(await generateKeyPair('ssh-ed25519'), await generateKeyPair('ecdsa-sha2-nistp521'), await generateKeyPair('rsa-sha2-512', { keySize: 2048 }));
});
afterAll(() => work.remove());

describe('getFingerprint', () => {
  it('prints the SHA256 and MD5 fingerprints ssh-keygen -l prints', async () => {
    for (const key of keys) {
      const file = writeKeyFile(work.path(`${key.keyType}.pub`), `${await exportPublicKey(key)}\n`);
      expect(getFingerprint(key)).toBe(sshKeygen(['-l', '-f', file]).split(' ')[1]);
      expect(getFingerprint(key, 'md5')).toBe(sshKeygen(['-l', '-E', 'md5', '-f', file]).split(' ')[1]);
    }
  });
});

describe('getPublicKeyBlob', () => {
  it('returns the RFC 4253 blob the one-line form carries', async () => {
    const key = keys[0]!;
    const line = await exportPublicKey(key);
    expect(Buffer.from(getPublicKeyBlob(key)).toString('base64')).toBe(line.split(' ')[1]);
  });
});

describe('publicKeysEqual', () => {
  it('compares public keys only, whatever the format or comment', async () => {
    const [ed, ec] = keys as [KeyPair, KeyPair];
    const publicOnly = await importKey(await exportPublicKey(ed, KeyFormat.Jwk));
    publicOnly.comment = 'other';
    expect(publicKeysEqual(ed, publicOnly)).toBe(true);
    expect(publicKeysEqual(ed, ec)).toBe(false);
  });
});
