/**
 * The ssh-agent protocol and agent forwarding with real OpenSSH (draft-miller-ssh-agent, OpenSSH
 * PROTOCOL §4.1): an `ssh-agent` started here holds ssh-added ed25519 and RSA keys; our client
 * authenticates to sshd through it (RSA signed under rsa-sha2-512 by the agent), forwards it so
 * `ssh-add -l` on sshd lists both keys; OpenSSH's `ssh -A` into our server running serveExec
 * sees the same list; `ssh-add` and `ssh` work against our AgentServer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../lib/agent/agent-client.js';
import { AgentServer } from '../../lib/agent/agent-server.js';
import type { AgentSocket } from '../../lib/agent/socket-backend.js';
import { importKeyFile } from '../../lib/keys/index.js';
import { getFingerprint } from '../../lib/keys/fingerprint.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
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

/** Starts `ssh-agent -D -a path` and waits for its socket. */
async function startSshAgent(dir: string): Promise<{ path: string; child: ChildProcess; stop(): void }> {
  const path = join(dir, 'ssh-agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', path], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!existsSync(path)) throw new Error('ssh-agent did not create its socket');
  return { path, child, stop: () => void child.kill('SIGTERM') };
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
  });
});
