/**
 * OpenSSH certificates (PROTOCOL.certkeys): certificates made by `ssh-keygen -s` for every key
 * type import and export byte-equal; ours pass `ssh-keygen -L`; the CA signature, type, validity
 * window and principals are checked against an injected clock; corrupt blobs and certificates
 * signed by certificates fail with a KeyError, never anything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { KeyError } from '../../lib/errors.js';
import { Certificate, checkCertificate, importCertificate, signCertificate } from '../../lib/keys/certificate.js';
import { exportPublicKey, importKeyFile, KeyFormat } from '../../lib/keys/index.js';
import { keyTypes, testKeys } from '../auth/test-keys.js';
import { makeWorkDir, sshKeygen, writeKeyFile } from './helpers/key-tools.js';

const keygenType = {
  'ssh-ed25519': ['-t', 'ed25519'],
  'ecdsa-sha2-nistp256': ['-t', 'ecdsa', '-b', '256'],
  'ecdsa-sha2-nistp384': ['-t', 'ecdsa', '-b', '384'],
  'ecdsa-sha2-nistp521': ['-t', 'ecdsa', '-b', '521'],
  'ssh-rsa': ['-t', 'rsa', '-b', '2048'],
} as const;

const at = (iso: string): Date => new Date(iso);

describe('certificates made by ssh-keygen -s', () => {
  const work = makeWorkDir();
  beforeAll(() => {
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'ca', '-f', work.path('ca')]);
    sshKeygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa-ca', '-f', work.path('rsa-ca')]);
  });
  afterAll(() => work.remove());

  for (const type of keyTypes) {
    it(`imports a ${type} user certificate and exports it byte-equal`, async () => {
      const key = work.path(`id_${type}`);
      sshKeygen(['-q', ...keygenType[type], '-N', '', '-C', 'me', '-f', key]);
      sshKeygen(['-q', '-s', work.path('rsa-ca'), '-I', `id-${type}`, '-n', 'alice,bob', '-z', '42', '-V', '20260101000000Z:20270101000000Z',
        '-O', 'force-command=uptime', '-O', 'source-address=127.0.0.1/32,::1', '-O', 'no-pty', `${key}.pub`]);
      const text = readFileSync(`${key}-cert.pub`, 'utf8');
      const cert = await importCertificate(text);
      expect(cert.toString()).toBe(text.trim());
      expect(cert.certificateType).toBe(`${type}-cert-v01@openssh.com`);
      expect(cert.type).toBe('user');
      expect(cert.keyId).toBe(`id-${type}`);
      expect(cert.serial).toBe(42n);
      expect(cert.principals).toEqual(['alice', 'bob']);
      expect(cert.validAfter).toBe(BigInt(Date.UTC(2026, 0, 1) / 1000));
      expect(cert.validBefore).toBe(BigInt(Date.UTC(2027, 0, 1) / 1000));
      expect(Object.fromEntries(cert.criticalOptions)).toEqual({ 'force-command': 'uptime', 'source-address': '127.0.0.1/32,::1' });
      expect([...cert.extensions.keys()]).not.toContain('permit-pty');
      expect(cert.extensions.get('permit-port-forwarding')).toBe('');
      expect(cert.publicKey.equals(await importKeyFile(key))).toBe(true);
      expect(cert.signatureKey.equals(await importKeyFile(work.path('rsa-ca')))).toBe(true);
      // ssh-keygen signs with an RSA CA under rsa-sha2-512 by default.
      expect(new TextDecoder().decode(cert.signature.subarray(4, 16))).toBe('rsa-sha2-512');
      await checkCertificate(cert, { type: 'user', now: at('2026-06-01T00:00:00Z'), principal: 'bob' });
    });
  }

  it('checks type, validity window, principals and signature against the given clock', async () => {
    const key = work.path('id_check');
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    sshKeygen(['-q', '-s', work.path('ca'), '-h', '-I', 'host', '-n', 'example.com', '-V', '20260101000000Z:20260201000000Z', `${key}.pub`]);
    const cert = await importCertificate(readFileSync(`${key}-cert.pub`, 'utf8'));
    expect(cert.type).toBe('host');
    const inside = at('2026-01-15T00:00:00Z');
    await checkCertificate(cert, { type: 'host', now: inside, principal: 'example.com' });
    await expect(checkCertificate(cert, { type: 'user', now: inside })).rejects.toThrow(/is a host certificate, expected user/);
    await expect(checkCertificate(cert, { type: 'host', now: at('2025-12-31T23:59:59Z') })).rejects.toThrow(/not valid before 2026-01-01T00:00:00.000Z/);
    await expect(checkCertificate(cert, { type: 'host', now: at('2026-02-01T00:00:00Z') })).rejects.toThrow(/expired at 2026-02-01T00:00:00.000Z/);
    await expect(checkCertificate(cert, { type: 'host', now: inside, principal: 'other.com' })).rejects.toThrow(/does not list principal "other.com"/);
    const forged = cert.blob.slice();
    forged[forged.length - 1]! ^= 1;
    await expect(checkCertificate(new Certificate(forged), { type: 'host', now: inside })).rejects.toThrow(/invalid CA signature/);
  });

  it('writes certificates that ssh-keygen -L reads, for every CA and key type', async () => {
    const keys = await testKeys();
    for (const caType of keyTypes) {
      const cert = await signCertificate({
        publicKey: keys['ssh-ed25519'],
        caKey: keys[caType],
        type: 'host',
        keyId: `signed by ${caType}`,
        principals: ['a.example', 'b.example'],
        serial: 7n,
        validAfter: 1767225600n,
        validBefore: 1798761600n,
        criticalOptions: new Map(),
        extensions: new Map(),
        comment: 'ours',
      });
      const path = work.path(`ours-${caType}-cert.pub`);
      writeFileSync(path, `${cert.toString()}\n`);
      const listing = sshKeygen(['-L', '-f', path]);
      expect(listing).toContain(`Type: ssh-ed25519-cert-v01@openssh.com host certificate`);
      expect(listing).toContain(`Key ID: "signed by ${caType}"`);
      expect(listing).toContain('Serial: 7');
      expect(listing).toMatch(/Principals: \n\s+a\.example\n\s+b\.example/);
      expect(listing).toContain(`Signing CA: ${caType === 'ssh-rsa' ? 'RSA' : caType.startsWith('ecdsa') ? 'ECDSA' : 'ED25519'}`);
      expect((await importCertificate(cert.toString())).blob).toEqual(cert.blob);
      await checkCertificate(cert, { type: 'host', now: at('2026-06-01T00:00:00Z') });
    }
  });

  it('writes user certificates with options that ssh-keygen -L lists', async () => {
    const keys = await testKeys();
    const cert = await signCertificate({
      publicKey: keys['ssh-rsa'],
      caKey: keys['ecdsa-sha2-nistp384'],
      keyId: 'opts',
      principals: ['alice'],
      criticalOptions: new Map([['source-address', '10.0.0.0/8'], ['force-command', 'id -u']]),
      extensions: new Map([['permit-pty', '']]),
    });
    const path = work.path('opts-cert.pub');
    writeFileSync(path, `${cert.toString()}\n`);
    const listing = sshKeygen(['-L', '-f', path]);
    expect(listing).toContain('ssh-rsa-cert-v01@openssh.com user certificate');
    expect(listing).toMatch(/force-command id -u/);
    expect(listing).toMatch(/source-address 10\.0\.0\.0\/8/);
    expect(listing).toMatch(/permit-pty/);
    expect(listing).toContain('Valid: forever');
  });
});

describe('bad certificates', () => {
  it('refuses a certificate signed by a certificate', async () => {
    const keys = await testKeys();
    const caCert = await signCertificate({ publicKey: keys['ssh-ed25519'], caKey: keys['ssh-rsa'] });
    const good = await signCertificate({ publicKey: keys['ecdsa-sha2-nistp256'], caKey: keys['ssh-ed25519'] });
    // Same certificate with the CA key field replaced by the CA's own certificate.
    const signed = good.signedData;
    const caBlobLength = keys['ssh-ed25519'].publicKeyBlob.length;
    const head = signed.subarray(0, signed.length - 4 - caBlobLength);
    const w = new Uint8Array(head.length + 4 + caCert.blob.length + good.blob.length - signed.length);
    w.set(head);
    new DataView(w.buffer).setUint32(head.length, caCert.blob.length);
    w.set(caCert.blob, head.length + 4);
    w.set(good.blob.subarray(signed.length), head.length + 4 + caCert.blob.length);
    expect(() => new Certificate(w)).toThrow(/signed by a certificate \(ssh-ed25519-cert-v01@openssh.com\)/);
  });

  it('refuses lines that are not certificates, with the reason', async () => {
    const keys = await testKeys();
    const plain = await exportPublicKey(keys['ssh-ed25519'], KeyFormat.Ssh);
    await expect(importCertificate(plain)).rejects.toThrow(KeyError);
    await expect(importCertificate('ssh-ed25519-cert-v01@openssh.com !!!')).rejects.toThrow(/invalid base64/);
    await expect(importCertificate('ssh-ed25519-cert-v01@openssh.com AAAA')).rejects.toThrow(/Invalid certificate/);
    const cert = await signCertificate({ publicKey: keys['ssh-ed25519'], caKey: keys['ssh-ed25519'] });
    await expect(importCertificate(`ssh-rsa-cert-v01@openssh.com ${cert.toString().split(' ')[1]}`)).rejects.toThrow(/names ssh-rsa-cert/);
    await expect(importCertificate(cert.blob.subarray(0, 100))).rejects.toThrow(/Invalid certificate: .*unexpected end/);
  });

  it('decodes any corruption of a valid certificate to a certificate or a KeyError', async () => {
    const keys = await testKeys();
    const cert = await signCertificate({
      publicKey: keys['ecdsa-sha2-nistp256'],
      caKey: keys['ssh-ed25519'],
      principals: ['p'],
      criticalOptions: new Map([['force-command', 'x']]),
    });
    const blob = cert.blob;
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: blob.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.nat({ max: blob.length }),
        (edits, cut) => {
          const bytes = blob.slice(0, cut === 0 ? blob.length : cut);
          for (const e of edits) if (e.at < bytes.length) bytes[e.at] = e.value;
          try {
            const decoded = new Certificate(bytes);
            expect(decoded.blob).toEqual(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(KeyError);
          }
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          new Certificate(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(KeyError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the key pair a plain key: a written private key file stays usable next to its certificate', async () => {
    const work = makeWorkDir();
    try {
      const keys = await testKeys();
      const cert = await signCertificate({ publicKey: keys['ssh-ed25519'], caKey: keys['ssh-rsa'], keyId: 'k' });
      writeKeyFile(work.path('k-cert.pub'), cert.toString());
      expect(sshKeygen(['-L', '-f', work.path('k-cert.pub')])).toContain('Key ID: "k"');
    } finally {
      work.remove();
    }
  });
});
