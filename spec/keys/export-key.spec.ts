import { createPrivateKey } from 'node:crypto';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { materialToJwk } from '../../lib/keys/key-material.js';
import {
  exportPrivateKey,
  exportPublicKey,
  generateKeyPair,
  importKey,
  KeyFormat,
  type KeyPair,
  type PublicKeyAlgorithmName,
} from '../../lib/keys/index.js';
import { makeWorkDir, openssl, opensslPublic, sshKeygen, sshKeygenPublic, typeAndBlob, writeKeyFile } from './helpers/key-tools.js';

const work = makeWorkDir();
const pass = 'p@ss phrase';
const keys = new Map<string, KeyPair>();
const algorithms: [string, PublicKeyAlgorithmName, number?][] = [
  ['ed25519', 'ssh-ed25519'],
  ['ecdsa256', 'ecdsa-sha2-nistp256'],
  ['ecdsa384', 'ecdsa-sha2-nistp384'],
  ['ecdsa521', 'ecdsa-sha2-nistp521'],
  ['rsa2048', 'rsa-sha2-256', 2048],
  ['rsa4096', 'rsa-sha2-512', 4096],
];

beforeAll(async () => {
  for (const [name, algorithm, keySize] of algorithms) {
    keys.set(name, await generateKeyPair(algorithm, { keySize, comment: `${name} comment with spaces` }));
  }
}, 30_000);
afterAll(() => work.remove());

/** Private formats each key type can be written in. */
function privateFormats(name: string): KeyFormat[] {
  const typed = name.startsWith('rsa') ? [KeyFormat.Pkcs1, KeyFormat.Ssh2] : name.startsWith('ecdsa') ? [KeyFormat.Sec1] : [];
  return [KeyFormat.OpenSsh, KeyFormat.Pkcs8, ...typed];
}

const privateCases = algorithms.flatMap(([name]) =>
  privateFormats(name).flatMap((format) => [
    [name, format, undefined],
    [name, format, pass],
  ] as [string, KeyFormat, string | undefined][]),
);

function privateDer(key: KeyPair): string {
  // node:crypto's own encoding, independent of the writer under test.
  return createPrivateKey({ key: materialToJwk(key.material, true), format: 'jwk' }).export({ format: 'der', type: 'pkcs8' }).toString('hex');
}

describe('exportPrivateKey', () => {
  it.each(privateCases)('writes %s as %s (passphrase %j) so that ssh-keygen -y and openssl read it back', async (name, format, passphrase) => {
    const key = keys.get(name)!;
    const text = await exportPrivateKey(key, format, passphrase);
    const file = writeKeyFile(work.path(`${name}-${format}-${passphrase ? 'pw' : 'plain'}`), text);
    const expected = typeAndBlob(await exportPublicKey(key, KeyFormat.Ssh));
    // OpenSSH 9.2 reads Ed25519 only in its own format; ssh.com keys go through ssh-keygen -i (below).
    if (format !== KeyFormat.Ssh2 && (format === KeyFormat.OpenSsh || name !== 'ed25519')) {
      expect(sshKeygenPublic(file, passphrase ?? '')).toBe(expected);
    }
    if (format !== KeyFormat.OpenSsh && format !== KeyFormat.Ssh2) {
      expect(opensslPublic(file, passphrase ?? '')).toBe(await exportPublicKey(key, KeyFormat.Pkcs8));
    }
    const back = await importKey(text, passphrase);
    expect(back.equals(key)).toBe(true);
    expect(privateDer(back)).toBe(privateDer(key));
    expect(back.comment).toBe(format === KeyFormat.OpenSsh || format === KeyFormat.Ssh2 ? key.comment : '');
  });

  it.each(algorithms.map(([name]) => [name]))('round-trips %s losslessly through every private format in turn', async (name) => {
    const key = keys.get(name)!;
    let current = key;
    for (const format of [...privateFormats(name), KeyFormat.Jwk, ...privateFormats(name).reverse()]) {
      current = await importKey(await exportPrivateKey(current, format, format === KeyFormat.Jwk ? undefined : pass), pass);
      expect(privateDer(current), format).toBe(privateDer(key));
    }
    const data = new TextEncoder().encode('signed after the round trip');
    const algorithm = current.algorithms[0]!;
    expect(await key.verify(data, await current.sign(algorithm, data))).toBe(true);
  });

  it('writes the PBES2 parameters openssl reports: PBKDF2 with HMAC-SHA256 and AES-256-CBC', async () => {
    const file = writeKeyFile(work.path('pbes2'), await exportPrivateKey(keys.get('ecdsa256')!, KeyFormat.Pkcs8, pass));
    const dump = openssl(['asn1parse', '-in', file]);
    expect(dump).toMatch(/:PBES2/);
    expect(dump).toMatch(/:PBKDF2/);
    expect(dump).toMatch(/:hmacWithSHA256/);
    expect(dump).toMatch(/:aes-256-cbc/);
  });

  it('writes OpenSSH keys encrypted with aes256-ctr and bcrypt as ssh-keygen does, 70 columns wide', async () => {
    const text = await exportPrivateKey(keys.get('ed25519')!, KeyFormat.OpenSsh, pass);
    const body = Buffer.from(text.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').toString('latin1');
    expect(body).toContain('aes256-ctr');
    expect(body).toContain('bcrypt');
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBe(70);
  });

  it('writes RSA CRT values that openssl rsa -check accepts after ssh-keygen converts our OpenSSH file to PEM', async () => {
    const file = writeKeyFile(work.path('crt-check'), await exportPrivateKey(keys.get('rsa2048')!, KeyFormat.OpenSsh));
    sshKeygen(['-q', '-p', '-P', '', '-N', '', '-m', 'PEM', '-f', file]);
    expect(openssl(['rsa', '-check', '-noout', '-in', file])).toMatch(/RSA key ok/);
  });

  it('changes the passphrase of our OpenSSH file with ssh-keygen -p and reads the result', async () => {
    const key = keys.get('ecdsa384')!;
    const file = writeKeyFile(work.path('repass'), await exportPrivateKey(key, KeyFormat.OpenSsh, pass));
    sshKeygen(['-q', '-p', '-P', pass, '-N', 'new one', '-f', file]);
    const { readFileSync } = await import('node:fs');
    const back = await importKey(readFileSync(file, 'utf8'), 'new one');
    expect(back.equals(key)).toBe(true);
    expect(back.comment).toBe(key.comment);
  });

  it('writes RSA keys in the ssh.com SSH2 private format that ssh-keygen -i converts to a valid key', async () => {
    const key = keys.get('rsa2048')!;
    const text = await exportPrivateKey(key, KeyFormat.Ssh2);
    expect(text).toMatch(/^---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa2048 comment with spaces"\n/);
    const converted = writeKeyFile(work.path('ssh-com-converted'), sshKeygen(['-i', '-f', writeKeyFile(work.path('ssh-com'), text)]));
    expect(openssl(['rsa', '-check', '-noout', '-in', converted])).toMatch(/RSA key ok/);
    expect(sshKeygenPublic(converted)).toBe(typeAndBlob(await exportPublicKey(key)));
    const back = await importKey(text);
    expect(privateDer(back)).toBe(privateDer(key));
    expect(back.comment).toBe(key.comment);
  });

  it('encrypts ssh.com SSH2 private keys with 3des-cbc and asks for the passphrase on import', async () => {
    const key = keys.get('rsa4096')!;
    const text = await exportPrivateKey(key, KeyFormat.Ssh2, pass);
    expect(privateDer(await importKey(text, pass))).toBe(privateDer(key));
    await expect(importKey(text)).rejects.toThrow('A passphrase is required to decrypt the SSH2 (ssh.com) private key');
    await expect(importKey(text, 'wrong')).rejects.toThrow('Incorrect passphrase for the SSH2 (ssh.com) private key');
    await expect(exportPrivateKey(keys.get('ecdsa256')!, KeyFormat.Ssh2)).rejects.toThrow(/holds RSA keys only; cannot export a ecdsa-sha2-nistp256 key/);
  });

  it('refuses formats that cannot hold the key, naming the alternatives', async () => {
    await expect(exportPrivateKey(keys.get('ed25519')!, KeyFormat.Pkcs1)).rejects.toThrow('PKCS#1 holds RSA keys only; cannot export a ssh-ed25519 key as pkcs1 (use pkcs8 or openssh)');
    await expect(exportPrivateKey(keys.get('rsa2048')!, KeyFormat.Sec1)).rejects.toThrow('SEC1 holds ECDSA keys only; cannot export a ssh-rsa key as sec1 (use pkcs8 or openssh)');
    await expect(exportPrivateKey(keys.get('rsa2048')!, KeyFormat.Ssh)).rejects.toThrow(/holds public keys only/);
    await expect(exportPrivateKey(keys.get('rsa2048')!, KeyFormat.Jwk, pass)).rejects.toThrow(/JWK keys cannot be encrypted/);
    const publicOnly = await importKey(await exportPublicKey(keys.get('ecdsa256')!));
    await expect(exportPrivateKey(publicOnly, KeyFormat.Pkcs8)).rejects.toThrow(/has only its public half/);
  });
});

const publicCases = algorithms.flatMap(([name]) =>
  [KeyFormat.Ssh, KeyFormat.OpenSsh, KeyFormat.Ssh2, KeyFormat.Pkcs8, KeyFormat.Jwk, ...(name.startsWith('rsa') ? [KeyFormat.Pkcs1] : [])].map(
    (format) => [name, format] as [string, KeyFormat],
  ),
);

/** ssh-keygen -i mode that reads each public format. */
const importModes: Partial<Record<KeyFormat, string>> = { [KeyFormat.Ssh2]: 'RFC4716', [KeyFormat.Pkcs8]: 'PKCS8', [KeyFormat.Pkcs1]: 'PEM' };

describe('exportPublicKey', () => {
  it.each(publicCases)('writes %s as %s so that it reads back, and ssh-keygen -i converts it', async (name, format) => {
    const key = keys.get(name)!;
    const text = await exportPublicKey(key, format);
    const back = await importKey(text);
    expect(back.equals(key)).toBe(true);
    expect(back.hasPrivateKey).toBe(false);
    const mode = importModes[format];
    const expected = typeAndBlob(await exportPublicKey(key));
    if (mode && !(name === 'ed25519' && mode !== 'RFC4716')) {
      const file = writeKeyFile(work.path(`${name}-${format}.pub`), text);
      expect(typeAndBlob(sshKeygen(['-i', '-m', mode, '-f', file]))).toBe(expected);
    }
    if (format === KeyFormat.Pkcs8) {
      const file = writeKeyFile(work.path(`${name}-spki.pem`), text);
      expect(openssl(['pkey', '-pubin', '-in', file, '-pubout'])).toBe(text);
    }
    if (format === KeyFormat.Ssh || format === KeyFormat.Ssh2 || format === KeyFormat.Jwk) expect(back.comment).toBe(key.comment);
  });

  it('writes the one-line form ssh-keygen -y prints, comment included', async () => {
    const key = keys.get('ecdsa521')!;
    const file = writeKeyFile(work.path('one-line'), await exportPrivateKey(key, KeyFormat.OpenSsh));
    expect(await exportPublicKey(key)).toBe(sshKeygen(['-y', '-f', file]).trim());
  });

  it('splits a long RFC 4716 Comment header with backslashes that ssh-keygen -i accepts', async () => {
    const key = keys.get('ed25519')!;
    const original = key.comment;
    key.comment = `a long comment ${'x'.repeat(150)} end`;
    try {
      const text = await exportPublicKey(key, KeyFormat.Ssh2);
      expect(Math.max(...text.split('\n').map((l) => Buffer.byteLength(l)))).toBeLessThanOrEqual(72);
      expect((await importKey(text)).comment).toBe(key.comment);
      const file = writeKeyFile(work.path('long-comment.pub'), text);
      expect(typeAndBlob(sshKeygen(['-i', '-m', 'RFC4716', '-f', file]))).toBe(typeAndBlob(await exportPublicKey(key)));
    } finally {
      key.comment = original;
    }
  });

  it('has no SEC1 public form and says which format to use instead', async () => {
    await expect(exportPublicKey(keys.get('ecdsa256')!, KeyFormat.Sec1)).rejects.toThrow(/SEC1 has no public key form; export ECDSA public keys as pkcs8/);
    await expect(exportPublicKey(keys.get('ecdsa256')!, KeyFormat.Pkcs1)).rejects.toThrow(/PKCS#1 holds RSA keys only/);
  });
});
