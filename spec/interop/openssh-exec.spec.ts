/**
 * Channel interop with OpenSSH (RFC 4254 §5-6): our client runs `exec` on a test sshd (stdout,
 * stderr, exit status, 64 MiB through `cat` both ways with matching SHA-256, a re-key while data
 * flows); OpenSSH's `ssh` runs commands on our server and gets output, exit status and its stdin
 * piped through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { importKey } from '../../lib/keys/index.js';
import type { ClientSession } from '../../lib/client-session.js';
import {
  createOpenSshKey,
  runSsh,
  skipWithoutOpenSsh,
  type OpenSshKeyFiles,
  type Sshd,
  type TestUser,
} from '../helpers/openssh.js';
import { connectClient, startSshdForUser, execText, hashStream, patternSource, startExecServer, type ExecServer } from './interop-sessions.js';

const skip = skipWithoutOpenSsh();
const MiB = 1024 * 1024;

describe.skipIf(skip)('OpenSSH interop: our client runs commands on sshd', () => {
  let sshd: Sshd;
  let user: TestUser;
  let userKey: KeyPair;
  let hostKeys: KeyPair[];

  beforeAll(async () => {
    ({ sshd, user, userKey, hostKeys } = await startSshdForUser());
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  async function login(config?: SessionConfig): Promise<ClientSession> {
    const client = await connectClient(sshd.port, hostKeys, config);
    if (!(await client.authenticate({ username: user.username, privateKeys: [userKey] }))) throw new Error('Login to sshd failed');
    return client;
  }

  it('gets stdout, stderr and the exit status of a command', async () => {
    const client = await login();
    try {
      expect(await execText(client, 'echo out; echo err >&2; exit 3')).toEqual({ stdout: 'out\n', stderr: 'err\n', exitStatus: 3 });
      expect(await execText(client, 'true')).toEqual({ stdout: '', stderr: '', exitStatus: 0 });
    } finally {
      await client.close();
    }
  });

  it('reports the signal that killed a command', async () => {
    const client = await login();
    try {
      const channel = await client.openChannel();
      expect(await channel.exec('kill -TERM $$')).toBe(true);
      await channel.writable.close();
      await Promise.all([hashStream(channel.readable), hashStream(channel.stderr)]);
      expect(await channel.closed).toMatchObject({ exitSignal: 'TERM', closedBy: 'remote' });
    } finally {
      await client.close();
    }
  });

  it('sends stdin to a command, which sees EOF when the writable closes', async () => {
    const client = await login();
    try {
      expect(await execText(client, 'wc -l; cat >/dev/null; echo done', 'a\nb\nc\n')).toEqual({ stdout: '3\ndone\n', stderr: '', exitStatus: 0 });
    } finally {
      await client.close();
    }
  });

  it('pipes 64 MiB through cat with the same SHA-256 back', async () => {
    const client = await login();
    try {
      const source = patternSource(64 * MiB, 1);
      const channel = await client.openChannel();
      expect(await channel.exec('cat')).toBe(true);
      const [echoed] = await Promise.all([hashStream(channel.readable), source.stream().pipeTo(channel.writable)]);
      expect(echoed).toEqual({ hash: source.hash, bytes: 64 * MiB });
      expect((await channel.closed).exitStatus).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('uploads 64 MiB that sshd hashes to the same SHA-256', async () => {
    const client = await login();
    try {
      const source = patternSource(64 * MiB, 2);
      const channel = await client.openChannel();
      expect(await channel.exec('sha256sum')).toBe(true);
      const [stdout] = await Promise.all([new Response(channel.readable).text(), source.stream().pipeTo(channel.writable)]);
      expect(stdout).toBe(`${source.hash}  -\n`);
    } finally {
      await client.close();
    }
  });

  it('downloads 64 MiB whose SHA-256 matches what sshd computed', async () => {
    const client = await login();
    try {
      const channel = await client.openChannel();
      const script = 'f=$(mktemp); head -c 67108864 /dev/urandom >"$f"; sha256sum <"$f" >&2; cat "$f"; rm -f "$f"';
      expect(await channel.exec(script)).toBe(true);
      await channel.writable.close();
      const [received, stderr] = await Promise.all([hashStream(channel.readable), new Response(channel.stderr).text()]);
      expect(received.bytes).toBe(64 * MiB);
      expect(stderr).toBe(`${received.hash}  -\n`);
      expect((await channel.closed).exitStatus).toBe(0);
    } finally {
      await client.close();
    }
  });

  it.each(['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr'])(
    're-keys with sshd (%s) while 16 MiB flows through cat',
    async (cipher) => {
      const config = SessionConfig.default();
      config.encryptionAlgorithms = [cipher];
      const client = await login(config);
      try {
        const kexBefore = client.metrics.keyExchanges;
        const source = patternSource(16 * MiB, 3);
        const channel = await client.openChannel();
        expect(await channel.exec('cat')).toBe(true);
        let sent = 0;
        let rekeyed: Promise<void> | undefined;
        let sentWhenRekeyed = Infinity;
        const counting = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            sent += chunk.length;
            // Re-key twice from our side mid-stream, while sshd is still echoing.
            if (sent >= 4 * MiB && rekeyed === undefined) {
              rekeyed = client
                .rekey()
                .then(() => client.rekey())
                .then(() => void (sentWhenRekeyed = sent));
            }
            controller.enqueue(chunk);
          },
        });
        const [echoed] = await Promise.all([hashStream(channel.readable), source.stream().pipeThrough(counting).pipeTo(channel.writable)]);
        await rekeyed;
        expect(echoed).toEqual({ hash: source.hash, bytes: 16 * MiB });
        expect(client.metrics.keyExchanges).toBe(kexBefore + 2);
        // Both re-keys finished while our side was still sending.
        expect(sentWhenRekeyed).toBeLessThan(16 * MiB);
        expect(client.algorithms!.encryptionClientToServer).toBe(cipher);
        expect(await execText(client, 'echo after-rekey')).toMatchObject({ stdout: 'after-rekey\n', exitStatus: 0 });
      } finally {
        await client.close();
      }
    },
  );
});

describe.skipIf(skip)('OpenSSH interop: ssh runs commands on our server', () => {
  let server: ExecServer;
  let dir: string;
  let key: OpenSshKeyFiles;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-exec-'));
    key = createOpenSshKey('ssh-ed25519', dir);
    const trusted = await importKey(key.publicKey);
    server = await startExecServer({
      hostKeys: [await generateKeyPair('ssh-ed25519')],
      onAuthenticating: (e) => e.authenticationType === 'publickey' && e.publicKey!.equals(trusted),
    });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ssh = (command: string, input?: string | Uint8Array) =>
    runSsh([command], { port: server.port, identityFile: key.privatePath, authentication: 'publickey', input });

  it('returns the output and exit status of a command', async () => {
    const result = await ssh('echo hi; exit 7');
    expect(result.stdout).toBe('hi\n');
    expect(result.exitCode).toBe(7);
    expect(result.negotiated.authMethod).toBe('publickey');
  });

  it('keeps stdout and stderr apart', async () => {
    const result = await ssh('echo to-out; echo to-err >&2');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('to-out\n');
    expect(result.stderr).toMatch(/^to-err$/m);
  });

  it('pipes its stdin through cat and back', async () => {
    const input = randomBytes(3 * MiB).toString('base64');
    const result = await ssh('cat', input);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.length).toBe(input.length);
    expect(createHash('sha256').update(result.stdout).digest('hex')).toBe(createHash('sha256').update(input).digest('hex'));
  });

  it('gets a shell without a terminal (ssh -T) that runs what arrives on stdin', async () => {
    const result = await runSsh([], {
      port: server.port,
      identityFile: key.privatePath,
      authentication: 'publickey',
      flags: ['-T'],
      input: 'echo from-shell-$((6*7)); exit 5\n',
    });
    expect(result.stdout).toBe('from-shell-42\n');
    expect(result.exitCode).toBe(5);
  });

  it('reports a command killed by a signal', async () => {
    const result = await ssh('kill -KILL $$');
    // OpenSSH's client exits 255 when the remote command died of a signal.
    expect(result.exitCode).toBe(255);
    expect(result.stderr).toMatch(/exit-signal|signal KILL|Killed/i);
  });
});
