/**
 * Certificates and known_hosts against real OpenSSH (PROTOCOL.certkeys): our client logs into
 * sshd (TrustedUserCAKeys) with user certificates from `ssh-keygen -s` and from our own
 * signCertificate, refused when expired or for another principal; sshd's HostCertificate is
 * checked by our client; OpenSSH's `ssh` logs into our server with CertificateFile and trusts our
 * host certificate through @cert-authority; known_hosts files written by `ssh` and hashed by
 * `ssh-keygen -H` are accepted by knownHostsVerifier, and a changed key is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionConfig } from '../../lib/config.js';
import { HostKeyError } from '../../lib/errors.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { exportPublicKey, importCertificate, importKeyFile, KeyFormat, knownHostsVerifier, signCertificate } from '../../lib/keys/index.js';
import {
  createOpenSshKey,
  ensureTestUser,
  hostPublicKey,
  OPENSSH_PATHS,
  runSsh,
  skipWithoutOpenSsh,
  startSshd,
  type Sshd,
  type TestUser,
} from '../helpers/openssh.js';
import { execFileSync } from 'node:child_process';
import { connectClient, execText, startExecServer, type ExecServer } from './interop-sessions.js';
import { ClientSession } from '../../lib/client-session.js';
import { connect as netConnect } from 'node:net';
import { socketToDuplex } from '../../lib/tcp/index.js';

const skip = skipWithoutOpenSsh();
const keygen = (args: string[]): string => execFileSync(OPENSSH_PATHS.sshKeygen, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function certificatesFirst(config = SessionConfig.default()): SessionConfig {
  const isCert = (a: string): boolean => a.endsWith('-cert-v01@openssh.com');
  config.publicKeyAlgorithms = [...config.publicKeyAlgorithms.filter(isCert), ...config.publicKeyAlgorithms.filter((a) => !isCert(a))];
  return config;
}

async function dial(port: number, config: SessionConfig, onAuthenticating: ClientSession['onAuthenticating']): Promise<ClientSession> {
  const socket = netConnect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = new ClientSession(config);
  client.onAuthenticating = onAuthenticating;
  await client.connect(socketToDuplex(socket));
  return client;
}

describe.skipIf(skip)('certificates with OpenSSH', () => {
  let dir: string;
  let user: TestUser;
  let sshd: Sshd;
  let caPath: string;
  let ourCa: KeyPair;
  let hostKeyLine: string;

  beforeAll(async () => {
    user = ensureTestUser();
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-certs-'));
    chmodSync(dir, 0o755);
    caPath = createOpenSshKey('ssh-ed25519', dir).privatePath;
    ourCa = await generateKeyPair('ecdsa-sha2-nistp256');
    const caKeys = join(dir, 'user_ca_keys');
    writeFileSync(caKeys, `${readFileSync(`${caPath}.pub`, 'utf8').trim()}\n${await exportPublicKey(ourCa, KeyFormat.Ssh)}\n`);
    chmodSync(caKeys, 0o644);
    // sshd's host key gets a certificate from the same CA, for 127.0.0.1.
    const probe = await startSshd({ hostKeyTypes: ['ssh-ed25519'] });
    const hostPub = join(dir, 'host_ed25519.pub');
    copyFileSync(`${probe.hostKeys['ssh-ed25519']}.pub`, hostPub);
    const hostKeyPath = probe.hostKeys['ssh-ed25519']!;
    await probe.stop();
    keygen(['-q', '-s', caPath, '-h', '-I', 'sshd-host', '-n', '127.0.0.1,localhost', '-V', '-1d:+1d', hostPub]);
    hostKeyLine = readFileSync(hostPub, 'utf8').trim();
    sshd = await startSshd({
      hostKeyTypes: ['ssh-ed25519'],
      passwordAuthentication: false,
      extraConfig: [`TrustedUserCAKeys ${caKeys}`, `HostCertificate ${join(dir, 'host_ed25519-cert.pub')}`],
    });
    expect(sshd.hostKeys['ssh-ed25519']).toBe(hostKeyPath);
  });

  afterAll(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function userCertificate(name: string, options: string[]) {
    const files = createOpenSshKey('ecdsa-sha2-nistp384', mkdtempSync(join(dir, `${name}-`)));
    keygen(['-q', '-s', caPath, '-I', name, ...options, files.publicPath]);
    const certificate = await importCertificate(readFileSync(files.publicPath.replace(/\.pub$/, '-cert.pub'), 'utf8'));
    return { key: await importKeyFile(files.privatePath), certificate };
  }

  it('logs into sshd with a user certificate made by ssh-keygen -s', async () => {
    const certified = await userCertificate('good', ['-n', user.username, '-V', '-5m:+1h']);
    const client = await connectClient(sshd.port, [await importKeyFile(sshd.hostKeys['ssh-ed25519']!)]);
    expect(await client.authenticate({ username: user.username, privateKeys: [certified] })).toBe(true);
    expect((await execText(client, 'id -un')).stdout.trim()).toBe(user.username);
    await client.close();
    await sshd.waitForLog(/Accepted publickey for sshstreams .* ECDSA-CERT SHA256:\S+ ID good/);
  });

  it('is refused by sshd with an expired certificate and with one for another principal', async () => {
    for (const [name, options] of [
      ['expired', ['-n', user.username, '-V', '20200101000000:20200102000000']],
      ['other', ['-n', 'someone-else', '-V', '-5m:+1h']],
    ] as const) {
      const certified = await userCertificate(name, [...options]);
      const client = await connectClient(sshd.port, [await importKeyFile(sshd.hostKeys['ssh-ed25519']!)]);
      expect(await client.authenticate({ username: user.username, privateKeys: [certified] }), name).toBe(false);
      await client.close();
    }
  });

  it('logs into sshd with a certificate from our signCertificate', async () => {
    const key = await generateKeyPair('rsa-sha2-512', { keySize: 2048 });
    const now = BigInt(Math.floor(Date.now() / 1000));
    const certificate = await signCertificate({ publicKey: key, caKey: ourCa, keyId: 'ours', principals: [user.username], validAfter: now - 60n, validBefore: now + 3600n });
    const client = await connectClient(sshd.port, [await importKeyFile(sshd.hostKeys['ssh-ed25519']!)]);
    expect(await client.authenticate({ username: user.username, privateKeys: [{ key, certificate }] })).toBe(true);
    expect((await execText(client, 'echo ok')).stdout).toBe('ok\n');
    await client.close();
    await sshd.waitForLog(/Accepted publickey for sshstreams .* RSA-CERT SHA256:\S+ ID ours/);
  });

  it("checks sshd's host certificate and hands it to onAuthenticating", async () => {
    const ca = await importKeyFile(`${caPath}.pub`);
    let seen: { algorithm: string; keyId: string | undefined } | undefined;
    const client = await dial(sshd.port, certificatesFirst(), (e) => {
      seen = { algorithm: e.publicKeyAlgorithm, keyId: e.certificate?.keyId };
      return e.certificate?.signatureKey.equals(ca) && e.certificate.principals.includes('127.0.0.1');
    });
    expect(seen).toEqual({ algorithm: 'ssh-ed25519-cert-v01@openssh.com', keyId: 'sshd-host' });
    await client.close();
    // The same through known_hosts: a @cert-authority line trusts it, without one it is unknown.
    const knownHosts = join(dir, 'known_hosts_ca');
    writeFileSync(knownHosts, `@cert-authority [127.0.0.1]:* ${readFileSync(`${caPath}.pub`, 'utf8').trim()}\n`);
    const trusted = await dial(sshd.port, certificatesFirst(), knownHostsVerifier({ path: knownHosts, host: '127.0.0.1', port: sshd.port }));
    await trusted.close();
    writeFileSync(knownHosts, `@cert-authority 10.0.0.1 ${readFileSync(`${caPath}.pub`, 'utf8').trim()}\n`);
    await expect(dial(sshd.port, certificatesFirst(), knownHostsVerifier({ path: knownHosts, host: '127.0.0.1', port: sshd.port }))).rejects.toThrow(HostKeyError);
    expect(hostKeyLine).toMatch(/^ssh-ed25519 /);
  });

  it('accepts known_hosts written by ssh and hashed by ssh-keygen -H, and refuses a changed key', async () => {
    const knownHosts = join(dir, 'known_hosts_ssh');
    const result = await runSsh(['true'], {
      port: sshd.port,
      authentication: 'publickey',
      options: { UserKnownHostsFile: knownHosts, StrictHostKeyChecking: 'accept-new', HostKeyAlgorithms: 'ssh-ed25519' },
    });
    expect(result.stderr).toMatch(/Permanently added '\[127\.0\.0\.1\]:\d+'/);
    const verify = () => dial(sshd.port, SessionConfig.default(), knownHostsVerifier({ path: knownHosts, host: '127.0.0.1', port: sshd.port }));
    await (await verify()).close();
    keygen(['-H', '-f', knownHosts]);
    expect(readFileSync(knownHosts, 'utf8')).not.toContain('127.0.0.1');
    await (await verify()).close();
    const impostor = await generateKeyPair('ssh-ed25519');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${(await exportPublicKey(impostor, KeyFormat.Ssh)).split(' ').slice(0, 2).join(' ')}\n`);
    await expect(verify()).rejects.toThrow(/refused by onAuthenticating/);
    expect(hostPublicKey(sshd, 'ssh-ed25519')).toMatch(/^ssh-ed25519 /);
  });

  describe('OpenSSH ssh into our server', () => {
    let server: ExecServer;
    let ca: KeyPair;
    beforeAll(async () => {
      ca = await importKeyFile(`${caPath}.pub`);
      const hostKey = await generateKeyPair('ecdsa-sha2-nistp256');
      const hostCertificate = await signCertificate({ publicKey: hostKey, caKey: await importKeyFile(caPath), type: 'host', principals: ['127.0.0.1'], keyId: 'our-host' });
      server = await startExecServer({
        hostKeys: [{ key: hostKey, certificate: hostCertificate }],
        onAuthenticating: (e) => e.certificate?.signatureKey.equals(ca) === true && e.certificate.principals.includes(e.username),
      });
    });
    afterAll(() => server?.close());

    it('accepts ssh with CertificateFile, and ssh trusts our host certificate through @cert-authority', async () => {
      const files = createOpenSshKey('ssh-ed25519', mkdtempSync(join(dir, 'ssh-client-')));
      keygen(['-q', '-s', caPath, '-I', 'ssh-client', '-n', user.username, files.publicPath]);
      const knownHosts = join(dir, 'known_hosts_ours');
      writeFileSync(knownHosts, `@cert-authority [127.0.0.1]:${server.port} ${readFileSync(`${caPath}.pub`, 'utf8').trim()}\n`);
      const result = await runSsh(['echo', 'certified'], {
        port: server.port,
        authentication: 'publickey',
        identityFile: files.privatePath,
        options: {
          CertificateFile: files.privatePath.replace(/$/, '-cert.pub'),
          UserKnownHostsFile: knownHosts,
          StrictHostKeyChecking: 'yes',
        },
      });
      expect(result.stdout, result.stderr).toBe('certified\n');
      expect(result.stderr).toMatch(/Server accepts key: .*ED25519-CERT/);
      expect(result.stderr).toMatch(/Host '\[127\.0\.0\.1\]:\d+' is known and matches the ECDSA-CERT host certificate/);
      const signed = server.events.filter((e) => e.authenticationType === 'publickey' && !e.isQuery);
      expect(signed.at(-1)!.certificate!.keyId).toBe('ssh-client');
    });
  });
});
