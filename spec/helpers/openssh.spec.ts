import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOpenSshKey,
  ensureTestUser,
  hostPublicKey,
  parseNegotiated,
  runSsh,
  skipWithoutOpenSsh,
  sshQuery,
  startSshd,
  type Sshd,
} from './openssh.js';

describe('skipWithoutOpenSsh', () => {
  it('throws under CI when OpenSSH is missing', () => {
    expect(() => skipWithoutOpenSsh({ env: { CI: 'true' }, reason: 'Missing /usr/sbin/sshd' })).toThrow(
      /must run under CI but cannot: Missing \/usr\/sbin\/sshd/,
    );
  });

  it('skips outside CI when OpenSSH is missing', () => {
    expect(skipWithoutOpenSsh({ env: {}, reason: 'Missing /usr/sbin/sshd' })).toBe(true);
    expect(skipWithoutOpenSsh({ env: { CI: 'false' }, reason: 'Missing /usr/sbin/sshd' })).toBe(true);
  });

  it('runs when OpenSSH is present, in CI or not', () => {
    expect(skipWithoutOpenSsh({ env: { CI: '1' }, reason: undefined })).toBe(false);
    expect(skipWithoutOpenSsh({ env: {}, reason: undefined })).toBe(false);
  });
});

describe('parseNegotiated', () => {
  it('reads the algorithms from ssh -v output', () => {
    const log = [
      'debug1: Remote protocol version 2.0, remote software version OpenSSH_9.2p1 Debian-2',
      'debug1: kex: algorithm: curve25519-sha256',
      'debug1: kex: host key algorithm: ssh-ed25519',
      'debug1: kex: server->client cipher: chacha20-poly1305@openssh.com MAC: <implicit> compression: none',
      'debug1: kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: none',
      'Authenticated to 127.0.0.1 ([127.0.0.1]:2222) using "password".\r',
    ].join('\n');
    expect(parseNegotiated(log)).toEqual({
      remoteSoftware: 'OpenSSH_9.2p1 Debian-2',
      kex: 'curve25519-sha256',
      hostKey: 'ssh-ed25519',
      serverToClient: { cipher: 'chacha20-poly1305@openssh.com', mac: '<implicit>', compression: 'none' },
      clientToServer: { cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com', compression: 'none' },
      authMethod: 'password',
    });
  });
});

describe.skipIf(skipWithoutOpenSsh())('startSshd', () => {
  let sshd: Sshd;
  let keyDir: string;

  beforeAll(async () => {
    ensureTestUser();
    keyDir = mkdtempSync(join(tmpdir(), 'ssh-streams-client-'));
    const clientKey = createOpenSshKey('ssh-ed25519', keyDir);
    sshd = await startSshd({ authorizedKeys: [clientKey.publicKey] });
  });

  afterAll(async () => {
    await sshd?.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('lists algorithms with ssh -Q', () => {
    expect(sshQuery('kex')).toContain('curve25519-sha256');
    expect(sshQuery('cipher')).toContain('aes256-gcm@openssh.com');
    expect(sshQuery('mac')).toContain('hmac-sha2-256');
    expect(sshQuery('key')).toContain('ssh-ed25519');
  });

  it('serves a host key of every type', () => {
    expect(Object.keys(sshd.hostKeys).sort()).toEqual([
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'ssh-ed25519',
      'ssh-rsa',
    ]);
    expect(hostPublicKey(sshd, 'ssh-ed25519')).toMatch(/^ssh-ed25519 AAAA/);
  });

  it('accepts the test user by password and reports what was negotiated', async () => {
    const user = ensureTestUser();
    const result = await runSsh(['id', '-un'], { port: sshd.port, password: user.password, authentication: 'password' });
    expect(result.stderr).not.toMatch(/Permission denied/);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(user.username);
    expect(result.negotiated.authMethod).toBe('password');
    expect(sshQuery('kex')).toContain(result.negotiated.kex);
    expect(result.negotiated.serverToClient?.cipher).toBeTruthy();
  });

  it('accepts the test user by public key from authorized_keys', async () => {
    const result = await runSsh(['echo', 'ok'], {
      port: sshd.port,
      identityFile: join(keyDir, 'id_ssh-ed25519'),
      authentication: 'publickey',
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('ok\n');
    expect(result.negotiated.authMethod).toBe('publickey');
  });

  it('rejects a wrong password', async () => {
    const result = await runSsh(['true'], { port: sshd.port, password: 'wrong', authentication: 'password' });
    expect(result.exitCode).not.toBe(0);
    await sshd.waitForLog(/Failed password for sshstreams/);
  });

  it('pins the algorithms it is configured with', async () => {
    const pinned = await startSshd({
      hostKeyTypes: ['ecdsa-sha2-nistp256'],
      kexAlgorithms: ['ecdh-sha2-nistp256'],
      ciphers: ['aes128-ctr'],
      macs: ['hmac-sha2-512'],
    });
    try {
      const result = await runSsh(['true'], { port: pinned.port, password: ensureTestUser().password });
      expect(result.exitCode).toBe(0);
      expect(result.negotiated).toMatchObject({
        kex: 'ecdh-sha2-nistp256',
        hostKey: 'ecdsa-sha2-nistp256',
        serverToClient: { cipher: 'aes128-ctr', mac: 'hmac-sha2-512', compression: 'none' },
        clientToServer: { cipher: 'aes128-ctr', mac: 'hmac-sha2-512', compression: 'none' },
      });
    } finally {
      await pinned.stop();
    }
  });

  it('answers keyboard-interactive through PAM', async () => {
    const pam = await startSshd({ usePam: true, passwordAuthentication: false });
    try {
      const result = await runSsh(['true'], {
        port: pam.port,
        password: ensureTestUser().password,
        authentication: 'keyboard-interactive',
      });
      expect(result.stderr).not.toMatch(/Permission denied/);
      expect(result.exitCode).toBe(0);
      expect(result.negotiated.authMethod).toBe('keyboard-interactive');
    } finally {
      await pam.stop();
    }
  });

  it('frees its port when stopped', async () => {
    const short = await startSshd({ hostKeyTypes: ['ssh-ed25519'] });
    await short.stop();
    const result = await runSsh(['true'], { port: short.port, timeoutMs: 10_000 });
    expect(result.exitCode).toBe(255);
    expect(result.stderr).toMatch(/Connection refused/);
  });
});
