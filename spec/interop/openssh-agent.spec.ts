/**
 * The ssh-agent protocol and agent forwarding with real OpenSSH (draft-miller-ssh-agent, OpenSSH
 * PROTOCOL §4.1): an `ssh-agent` started here holds ssh-added ed25519 and RSA keys; our client
 * authenticates to sshd through it (RSA signed under rsa-sha2-512 by the agent), forwards it so
 * `ssh-add -l` on sshd lists both keys; OpenSSH's `ssh -A` into our server running serveExec
 * sees the same list; `ssh-add` and `ssh` work against our AgentServer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../lib/agent/agent-client.js';
import { AgentServer } from '../../lib/agent/agent-server.js';
import type { AgentSocket } from '../../lib/agent/socket-backend.js';
import { importKeyFile } from '../../lib/keys/index.js';
import { getFingerprint } from '../../lib/keys/fingerprint.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { signCertificate } from '../../lib/keys/certificate.js';
import {
  createOpenSshKey,
  ensureTestUser,
  runSsh,
  skipWithoutOpenSsh,
  startSshd,
  type OpenSshKeyFiles,
  type Sshd,
  type TestUser,
} from '../helpers/openssh.js';
import { connectClient, execText, startExecServer, type ExecServer } from './interop-sessions.js';

const skip = skipWithoutOpenSsh();
const execFileAsync = promisify(execFile);

/**
 * Starts `ssh-agent -D -a path` and waits for its socket. Its SSH_ASKPASS (asked before each use of
 * a key added with the confirm constraint) records the prompt in `askpass.log` and says yes.
 */
async function startSshAgent(dir: string): Promise<{ path: string; child: ChildProcess; askpassLog: string; stop(): void }> {
  const path = join(dir, 'ssh-agent.sock');
  const askpass = join(dir, 'askpass.sh');
  const askpassLog = join(dir, 'askpass.log');
  writeFileSync(askpass, `#!/bin/sh\necho "$*" >> '${askpassLog}'\nexit 0\n`, { mode: 0o755 });
  const env = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: process.env.DISPLAY ?? ':0' };
  const child = spawn('ssh-agent', ['-D', '-a', path], { stdio: 'ignore', env });
  for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!existsSync(path)) throw new Error('ssh-agent did not create its socket');
  return { path, child, askpassLog, stop: () => void child.kill('SIGTERM') };
}

/** Runs ssh-add asynchronously: our AgentServer answers it from this very process. */
async function sshAdd(socket: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('ssh-add', args, { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8', timeout: 20_000 });
  return stdout;
}

describe.skipIf(skip)('agent with OpenSSH', () => {
  let dir: string;
  let user: TestUser;
  let agent: Awaited<ReturnType<typeof startSshAgent>>;
  let ed25519: OpenSshKeyFiles;
  let rsa: OpenSshKeyFiles;
  let fingerprints: string[];
  let sshd: Sshd;
  let hostKey: KeyPair;

  beforeAll(async () => {
    user = ensureTestUser();
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-agent-'));
    chmodSync(dir, 0o755);
    ed25519 = createOpenSshKey('ssh-ed25519', dir);
    rsa = createOpenSshKey('ssh-rsa', dir);
    agent = await startSshAgent(dir);
    await sshAdd(agent.path, [ed25519.privatePath, rsa.privatePath]);
    fingerprints = [getFingerprint(await importKeyFile(ed25519.privatePath)), getFingerprint(await importKeyFile(rsa.privatePath))];
    // Only the RSA key is authorized, so the ed25519 identity is tried and refused first.
    sshd = await startSshd({ hostKeyTypes: ['ssh-ed25519'], authorizedKeys: [rsa.publicKey], passwordAuthentication: false });
    hostKey = await importKeyFile(sshd.hostKeys['ssh-ed25519']!);
  });

  afterAll(async () => {
    agent?.stop();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the ssh-added keys through AgentClient.connect', async () => {
    const client = await AgentClient.connect(agent.path);
    const keys = await client.listKeys();
    expect(keys.map((k) => getFingerprint(k.publicKey))).toEqual(fingerprints);
    expect(keys.map((k) => k.comment)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    await client.close();
  });

  it('authenticates our client to sshd through ssh-agent (query, then sign with rsa-sha2-512)', async () => {
    const agentClient = await AgentClient.connect(agent.path);
    const client = await connectClient(sshd.port, [hostKey]);
    expect(await client.authenticate({ username: user.username, agent: agentClient })).toBe(true);
    expect((await execText(client, 'id -un')).stdout.trim()).toBe(user.username);
    await client.close();
    await agentClient.close();
    await sshd.waitForLog(/Accepted publickey for sshstreams .* RSA SHA256:/);
    expect(sshd.logs()).toMatch(/rsa-sha2-512/);
  });

  it('forwards ssh-agent to sshd: ssh-add -l there lists the keys', async () => {
    const agentClient = await AgentClient.connect(agent.path);
    const client = await connectClient(sshd.port, [hostKey]);
    expect(await client.authenticate({ username: user.username, agent: agentClient })).toBe(true);
    const channel = await client.openChannel();
    expect(await channel.requestAgentForwarding(agent.path)).toBe(true);
    expect(await channel.exec('ssh-add -l')).toBe(true);
    void channel.writable.close();
    let out = '';
    for await (const chunk of channel.readable) out += new TextDecoder().decode(chunk);
    for (const fingerprint of fingerprints) expect(out).toContain(fingerprint);
    expect((await channel.closed).exitStatus).toBe(0);
    // As sshd does, the forwarded agent then serves every later session channel of this connection.
    expect((await execText(client, 'ssh-add -l')).stdout).toContain(fingerprints[0]!);
    await client.close();
    await agentClient.close();
  });

  describe('OpenSSH ssh -A into our server', () => {
    let server: ExecServer;
    beforeAll(async () => {
      server = await startExecServer({
        hostKeys: [await generateKeyPair('ssh-ed25519')],
        onAuthenticating: (e) => e.authenticationType === 'password' && e.password === 'pw',
      });
    });
    afterAll(() => server?.close());

    it('gives the command an SSH_AUTH_SOCK reaching the client agent, removed when the channel closes', async () => {
      const result = await runSsh(['ssh-add -l; echo "sock=$SSH_AUTH_SOCK"'], {
        port: server.port,
        password: 'pw',
        authentication: 'password',
        flags: ['-A'],
        options: { IdentityAgent: agent.path, ForwardAgent: 'yes' },
      });
      for (const fingerprint of fingerprints) expect(result.stdout, result.stderr).toContain(fingerprint);
      const sock = /sock=(\S+)/.exec(result.stdout)![1]!;
      expect(sock).toMatch(/ssh-streams-agent-.*\/agent\.\d+$/);
      for (let i = 0; i < 50 && existsSync(sock); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(existsSync(sock)).toBe(false);
      const without = await runSsh(['ssh-add -l'], { port: server.port, password: 'pw', authentication: 'password' });
      expect(without.exitCode).toBe(2);
    });
  });

  describe('our AgentServer', () => {
    let ours: AgentServer;
    let socket: AgentSocket;
    beforeAll(async () => {
      ours = new AgentServer();
      socket = await ours.listen();
    });
    afterAll(() => socket?.close());

    it('takes keys from ssh-add, lists them to ssh-add -l, and signs for ssh logging into sshd', async () => {
      await sshAdd(socket.path, [rsa.privatePath, ed25519.privatePath]);
      const listing = await sshAdd(socket.path, ['-l']);
      for (const fingerprint of fingerprints) expect(listing).toContain(fingerprint);
      expect(ours.keys.map((k) => k.publicKey.keyType)).toEqual(['ssh-rsa', 'ssh-ed25519']);
      const result = await runSsh(['echo', 'via-our-agent'], {
        port: sshd.port,
        authentication: 'publickey',
        options: { IdentityAgent: socket.path, IdentitiesOnly: 'no', IdentityFile: 'none' },
      });
      expect(result.stdout, result.stderr).toBe('via-our-agent\n');
      await sshAdd(socket.path, ['-d', `${rsa.privatePath}.pub`]);
      expect(ours.keys.map((k) => k.publicKey.keyType)).toEqual(['ssh-ed25519']);
      await sshAdd(socket.path, ['-D']);
      expect(ours.keys).toEqual([]);
    });

    it('takes a certificate and lifetime and confirm constraints from ssh-add -t -c', async () => {
      const certDir = mkdtempSync(join(tmpdir(), 'ssh-streams-agent-cert-'));
      try {
        const ca = createOpenSshKey('ssh-ed25519', certDir);
        const userDir = mkdtempSync(join(certDir, 'user-'));
        const key = createOpenSshKey('ecdsa-sha2-nistp256', userDir);
        execFileSync('ssh-keygen', ['-q', '-s', ca.privatePath, '-I', 'ssh-add-cert', '-n', 'alice', key.publicPath], { stdio: 'pipe' });
        const certLine = readFileSync(key.privatePath + '-cert.pub', 'utf8').trim();
        const before = Date.now();
        await sshAdd(socket.path, ['-t', '600', '-c', key.privatePath]);
        const held = ours.keys;
        expect(held.map((k) => k.publicKey.keyType)).toEqual(['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256']);
        expect(Buffer.from(held[1]!.blob).toString('base64')).toBe(certLine.split(' ')[1]);
        for (const k of held) {
          expect(k.confirm).toBe(true);
          expect(k.expiresAt! - before).toBeGreaterThanOrEqual(600_000);
          expect(k.expiresAt! - Date.now()).toBeLessThanOrEqual(600_000);
        }
        expect(await sshAdd(socket.path, ['-L'])).toContain(certLine.split(' ').slice(0, 2).join(' '));
        await sshAdd(socket.path, ['-D']);
      } finally {
        rmSync(certDir, { recursive: true, force: true });
      }
    });
  });

  it('adds certified keys and constrained keys to ssh-agent: ssh-add -L shows the certificates, confirm asks, signatures verify', async () => {
    const client = await AgentClient.connect(agent.path);
    const [key, ca, confirmKey, rsaKey] = await Promise.all([
      generateKeyPair('ecdsa-sha2-nistp256'),
      generateKeyPair('ssh-ed25519'),
      generateKeyPair('ssh-ed25519'),
      generateKeyPair('rsa-sha2-512', { keySize: 2048 }),
    ]);
    const certificate = await signCertificate({ publicKey: key, caKey: ca, keyId: 'agent-cert', principals: [user.username] });
    const rsaCertificate = await signCertificate({ publicKey: rsaKey, caKey: ca, keyId: 'agent-rsa-cert', principals: [user.username] });
    const comments = ['certified with lifetime', 'rsa certified', 'needs confirmation'];
    try {
      await client.addKey({ key, certificate }, { comment: comments[0], lifetime: 3600 });
      await client.addKey({ key: rsaKey, certificate: rsaCertificate }, comments[1]);
      await client.addKey(confirmKey, { comment: comments[2], confirm: true });
      const publicLines = await sshAdd(agent.path, ['-L']);
      for (const cert of [certificate, rsaCertificate]) {
        expect(publicLines).toContain(`${cert.certificateType} ${Buffer.from(cert.blob).toString('base64')}`);
      }
      const listing = await sshAdd(agent.path, ['-l']);
      expect(listing).toMatch(new RegExp(`${getFingerprint(key).replace(/[+/]/g, '\\$&')} ${comments[0]} \\(ECDSA-CERT\\)`));
      expect(listing).toContain(`${getFingerprint(confirmKey)} ${comments[2]} (ED25519)`);

      const listed = await client.listKeys();
      const data = new TextEncoder().encode('signed by ssh-agent through a certificate');
      const ecdsaCert = listed.find((k) => k.certificate?.keyId === 'agent-cert')!;
      expect(await key.verify(data, await client.sign(ecdsaCert, data))).toBe(true);
      const rsaCert = listed.find((k) => k.certificate?.keyId === 'agent-rsa-cert')!;
      expect(await rsaKey.verify(data, await client.sign(rsaCert, data, 'rsa-sha2-256'), ['rsa-sha2-256'])).toBe(true);
      // The confirm constraint holds: ssh-agent asked its SSH_ASKPASS before signing.
      expect(existsSync(agent.askpassLog)).toBe(false);
      expect(await confirmKey.verify(data, await client.sign(confirmKey, data))).toBe(true);
      expect(readFileSync(agent.askpassLog, 'utf8')).toMatch(/Allow use of key/);
    } finally {
      for (const identity of await client.listKeys()) if (comments.includes(identity.comment)) await client.removeKey(identity);
      await client.close();
    }
  });
});
