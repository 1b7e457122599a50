import { copyFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyError } from '../../lib/errors.js';
import { exportPublicKey, importKey, importKeyFile, KeyFormat } from '../../lib/keys/index.js';
import { makeWorkDir, openssl, sshKeygen, sshKeygenPublic, typeAndBlob, writeKeyFile } from './helpers/key-tools.js';

const work = makeWorkDir();
const pass = 'correct horse';

/** ssh-keygen key types: name, ssh-keygen arguments. RSA 4096 is generated once, in OpenSSH format only. */
const sshKeygenTypes: [string, string[]][] = [
  ['ed25519', ['-t', 'ed25519']],
  ['ecdsa256', ['-t', 'ecdsa', '-b', '256']],
  ['ecdsa384', ['-t', 'ecdsa', '-b', '384']],
  ['ecdsa521', ['-t', 'ecdsa', '-b', '521']],
  ['rsa2048', ['-t', 'rsa', '-b', '2048']],
  ['rsa4096', ['-t', 'rsa', '-b', '4096']],
];

/** Private key files: file name, passphrase, expected PEM label, comment expected after import. */
const privateFiles: { file: string; passphrase: string | undefined; label: string; comment: string; reference: string }[] = [];
/** Public key files: file name, the private key it belongs to, expected comment. */
const publicFiles: { file: string; reference: string; comment: string | undefined }[] = [];

function label(file: string): string {
  return /-----BEGIN ([A-Z ]+)-----/.exec(readFileSync(work.path(file), 'utf8'))?.[1] ?? 'none';
}

function addPrivate(file: string, passphrase: string | undefined, comment: string, reference = file): void {
  privateFiles.push({ file, passphrase, label: label(file), comment, reference });
}

beforeAll(() => {
  for (const [name, args] of sshKeygenTypes) {
    const base = `sk-${name}`;
    const comment = `${name} key of test@example`;
    sshKeygen(['-q', ...args, '-N', '', '-C', comment, '-f', work.path(base)]);
    addPrivate(base, undefined, comment);
    publicFiles.push({ file: `${base}.pub`, reference: base, comment });
    // Re-encrypt copies: passphrase in OpenSSH format, then PEM and PKCS8 with and without passphrase.
    const variants: [string, string[], string | undefined, boolean][] = [
      ['openssh-pw', ['-N', pass], pass, true],
      ['rfc4716', ['-m', 'RFC4716', '-N', ''], undefined, true],
      ['pem', ['-m', 'PEM', '-N', ''], undefined, false],
      ['pem-pw', ['-m', 'PEM', '-N', pass], pass, false],
      ['pkcs8', ['-m', 'PKCS8', '-N', ''], undefined, false],
      ['pkcs8-pw', ['-m', 'PKCS8', '-N', pass], pass, false],
    ];
    for (const [suffix, convert, passphrase, keepsComment] of variants) {
      if (name === 'rsa4096' && suffix !== 'openssh-pw') continue;
      const file = `${base}-${suffix}`;
      copyFileSync(work.path(base), work.path(file));
      sshKeygen(['-q', '-p', '-P', '', ...convert, '-f', work.path(file)]);
      // Ed25519 has no PEM form in ssh-keygen: it writes OpenSSH format, which keeps the comment.
      addPrivate(file, passphrase, keepsComment || name === 'ed25519' ? comment : '', base);
    }
    for (const mode of ['RFC4716', 'PKCS8', 'PEM']) {
      if (name === 'ed25519' && mode !== 'RFC4716') continue;
      const file = `${base}-export-${mode}`;
      const text = sshKeygen(['-e', '-m', mode, '-f', work.path(`${base}.pub`)]);
      writeKeyFile(work.path(file), text);
      publicFiles.push({ file, reference: base, comment: mode === 'RFC4716' ? `${name === 'ed25519' ? '256-bit ED25519' : ''}` : undefined });
    }
  }

  // openssl-made keys.
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', work.path('os-rsa.pem')]);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', work.path('os-ec256.pem')]);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521', '-out', work.path('os-ec521.pem')]);
  openssl(['ecparam', '-name', 'secp384r1', '-genkey', '-out', work.path('os-ec384-params.pem')]);
  openssl(['genpkey', '-algorithm', 'ed25519', '-out', work.path('os-ed25519.pem')]);
  const derived: [string, string[], string | undefined][] = [
    ['os-rsa-pkcs1.pem', ['rsa', '-traditional', '-in', work.path('os-rsa.pem')], undefined],
    ['os-rsa-pkcs1-aes256.pem', ['rsa', '-traditional', '-aes256', '-passout', `pass:${pass}`, '-in', work.path('os-rsa.pem')], pass],
    ['os-rsa-pkcs1-aes128.pem', ['rsa', '-traditional', '-aes128', '-passout', `pass:${pass}`, '-in', work.path('os-rsa.pem')], pass],
    ['os-rsa-pkcs1-aes192.pem', ['rsa', '-traditional', '-aes192', '-passout', `pass:${pass}`, '-in', work.path('os-rsa.pem')], pass],
    ['os-rsa-pkcs1-des3.pem', ['rsa', '-traditional', '-des3', '-passout', `pass:${pass}`, '-in', work.path('os-rsa.pem')], pass],
    ['os-rsa-pkcs8-aes256.pem', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', `pass:${pass}`, '-in', work.path('os-rsa.pem')], pass],
    ['os-rsa-pkcs8-aes128-sha1.pem', ['pkcs8', '-topk8', '-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA1', '-passout', `pass:${pass}`, '-in', work.path('os-rsa.pem')], pass],
    ['os-ec256-sec1.pem', ['ec', '-in', work.path('os-ec256.pem')], undefined],
    ['os-ec256-sec1-aes256.pem', ['ec', '-aes256', '-passout', `pass:${pass}`, '-in', work.path('os-ec256.pem')], pass],
    ['os-ec521-pkcs8-aes256.pem', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', `pass:${pass}`, '-in', work.path('os-ec521.pem')], pass],
    ['os-ed25519-pkcs8-aes256.pem', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', `pass:${pass}`, '-in', work.path('os-ed25519.pem')], pass],
  ];
  for (const [file, args, passphrase] of derived) {
    writeKeyFile(work.path(file), openssl([...args]));
    addPrivate(file, passphrase, '', `${/^os-[a-z0-9]+/.exec(file)![0]}.pem`);
  }
  for (const file of ['os-rsa.pem', 'os-ec256.pem', 'os-ec521.pem', 'os-ec384-params.pem', 'os-ed25519.pem']) addPrivate(file, undefined, '', file);
  writeKeyFile(work.path('os-rsa-spki.pem'), openssl(['pkey', '-in', work.path('os-rsa.pem'), '-pubout']));
  writeKeyFile(work.path('os-rsa-pkcs1-public.pem'), openssl(['rsa', '-in', work.path('os-rsa.pem'), '-RSAPublicKey_out']));
  writeKeyFile(work.path('os-ec521-spki.pem'), openssl(['pkey', '-in', work.path('os-ec521.pem'), '-pubout']));
  writeKeyFile(work.path('os-ed25519-spki.pem'), openssl(['pkey', '-in', work.path('os-ed25519.pem'), '-pubout']));
  publicFiles.push(
    { file: 'os-rsa-spki.pem', reference: 'os-rsa.pem', comment: undefined },
    { file: 'os-rsa-pkcs1-public.pem', reference: 'os-rsa.pem', comment: undefined },
    { file: 'os-ec521-spki.pem', reference: 'os-ec521.pem', comment: undefined },
    { file: 'os-ed25519-spki.pem', reference: 'os-ed25519.pem', comment: undefined },
  );
}, 60_000);

afterAll(() => work.remove());

/** The public key of a reference file: ssh-keygen -y where it can read the file, else openssl's raw Ed25519 key. */
function referencePublic(file: string): string {
  if (file.startsWith('os-ed25519')) {
    const spki = readFileSync(work.path('os-ed25519-spki.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
    const raw = Buffer.from(spki, 'base64').subarray(-32);
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), raw]);
    return `ssh-ed25519 ${blob.toString('base64')}`;
  }
  return sshKeygenPublic(work.path(file));
}

describe('importKey', () => {
  it('reads every private key file ssh-keygen and openssl wrote, to the public key ssh-keygen derives', async () => {
    expect(privateFiles.length).toBeGreaterThan(40);
    for (const { file, passphrase, comment, reference } of privateFiles) {
      const key = await importKeyFile(work.path(file), passphrase);
      expect(key.hasPrivateKey, file).toBe(true);
      expect(typeAndBlob(await exportPublicKey(key, KeyFormat.Ssh)), file).toBe(referencePublic(reference));
      expect(key.comment, file).toBe(comment);
    }
  });

  it('covers the PEM labels of every format in the generated set', () => {
    const labels = new Set(privateFiles.map((f) => f.label));
    expect([...labels].sort()).toEqual(['EC PARAMETERS', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PRIVATE KEY', 'RSA PRIVATE KEY']);
  });

  it('reads every public key file: .pub lines, ssh-keygen -e exports and openssl public keys', async () => {
    for (const { file, reference, comment } of publicFiles) {
      const key = await importKeyFile(work.path(file));
      expect(key.hasPrivateKey, file).toBe(false);
      expect(typeAndBlob(await exportPublicKey(key)), file).toBe(referencePublic(reference));
      if (comment !== undefined) expect(key.comment, file).toContain(comment);
    }
  });

  it('keeps the RFC 4716 Comment header ssh-keygen -e writes', async () => {
    const key = await importKeyFile(work.path('sk-ecdsa384-export-RFC4716'));
    expect(key.comment).toMatch(/^384-bit ECDSA, converted by .* from OpenSSH$/);
  });

  it.each(['sk-ed25519-openssh-pw', 'sk-rsa2048-pem-pw', 'sk-ecdsa256-pkcs8-pw', 'os-rsa-pkcs1-des3.pem', 'os-ec256-sec1-aes256.pem', 'os-rsa-pkcs8-aes128-sha1.pem'])(
    'asks for the passphrase of %s, and refuses a wrong one',
    async (file) => {
      await expect(importKeyFile(work.path(file))).rejects.toThrow(/^A passphrase is required to decrypt the /);
      await expect(importKeyFile(work.path(file), 'wrong')).rejects.toThrow(/^Incorrect passphrase for the /);
      await expect(importKeyFile(work.path(file), 'wrong')).rejects.toBeInstanceOf(KeyError);
    },
  );

  it('reads binary DER and openssh-key-v1 bodies without armor', async () => {
    const der = new Uint8Array(Buffer.from(readFileSync(work.path('os-ec256.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
    const fromDer = await importKey(der);
    expect(fromDer.keyType).toBe('ecdsa-sha2-nistp256');
    const sec1 = new Uint8Array(Buffer.from(readFileSync(work.path('os-ec256-sec1.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
    expect((await importKey(sec1)).equals(fromDer)).toBe(true);
    const body = Buffer.from(readFileSync(work.path('sk-ed25519'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    expect((await importKey(new Uint8Array(body))).keyType).toBe('ssh-ed25519');
  });

  it.each([
    ['aes128-ctr'],
    ['aes256-cbc'],
    ['aes256-gcm@openssh.com'],
  ])('decrypts an OpenSSH key that ssh-keygen encrypted with %s', async (cipher) => {
    const file = work.path(`cipher-${cipher}`);
    sshKeygen(['-q', '-t', 'ecdsa', '-Z', cipher, '-N', pass, '-C', cipher, '-f', file]);
    const key = await importKeyFile(file, pass);
    expect(key.comment).toBe(cipher);
    expect(typeAndBlob(await exportPublicKey(key))).toBe(sshKeygenPublic(file, pass));
    await expect(importKeyFile(file, 'nope')).rejects.toThrow(/Incorrect passphrase/);
  });

  it('names the cipher when an OpenSSH key uses one it does not support', async () => {
    const file = work.path('cipher-chacha');
    sshKeygen(['-q', '-t', 'ed25519', '-Z', 'chacha20-poly1305@openssh.com', '-N', pass, '-f', file]);
    await expect(importKeyFile(file, pass)).rejects.toThrow(/Unsupported OpenSSH private key cipher chacha20-poly1305@openssh.com/);
  });

  it('refuses unreadable files and unknown text with a KeyError naming what it expected', async () => {
    await expect(importKeyFile(work.path('missing'))).rejects.toThrow(/^Cannot read key file .*missing: ENOENT$/);
    await expect(importKey('hello world')).rejects.toThrow(/^Unrecognized key format \(expected PEM/);
    await expect(importKey('-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n')).rejects.toThrow(/Unsupported PEM label "DSA PRIVATE KEY"/);
    await expect(importKey('')).rejects.toThrow(/^Empty key data/);
  });
});
