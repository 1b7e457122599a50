/**
 * Compression interop with OpenSSH (RFC 4253 §6.2, OpenSSH PROTOCOL §2): `ssh -C` and
 * `ssh -o Compression=yes` run commands on our server with zlib@openssh.com (and plain zlib when
 * our server offers only that); our client runs `cat` on an sshd with `Compression yes`, 8+ MiB
 * each way, with re-keys midway (OpenSSH restarts the zlib streams at each NEWKEYS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { importKey } from '../../lib/keys/index.js';
import type { ServerSession } from '../../lib/server-session.js';
import {
  createOpenSshKey,
  runSsh,
  skipWithoutOpenSsh,
  type OpenSshKeyFiles,
  type Sshd,
  type TestUser,
} from '../helpers/openssh.js';
import { connectClient, startSshdForUser, hashStream, startExecServer, type ExecServer } from './interop-sessions.js';
import { logText } from '../helpers/compressible.js';

const skip = skipWithoutOpenSsh();
const MiB = 1024 * 1024;


const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe.skipIf(skip)('OpenSSH interop: ssh with compression against our server', () => {
  let dir: string;
  let key: OpenSshKeyFiles;
  let trusted: KeyPair;
  let hostKey: KeyPair;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-compression-'));
    key = createOpenSshKey('ssh-ed25519', dir);
    trusted = await importKey(key.publicKey);
    hostKey = await generateKeyPair('ssh-ed25519');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function withServer<T>(compression: string[] | undefined, run: (server: ExecServer, sessions: ServerSession[]) => Promise<T>): Promise<T> {
    const config = SessionConfig.default();
    if (compression) config.compressionAlgorithms = compression;
    const sessions: ServerSession[] = [];
    const server = await startExecServer({
      hostKeys: [hostKey],
      config,
      onAuthenticating: (e) => e.authenticationType === 'publickey' && e.publicKey!.equals(trusted),
      onSession: (session) => sessions.push(session),
    });
    try {
      return await run(server, sessions);
    } finally {
      await server.close();
    }
  }

  it.each([
    ['ssh -C', ['-C'], {}],
    ['ssh -o Compression=yes', [], { Compression: 'yes' }],
  ])('%s pipes 4 MiB through cat on our server under zlib@openssh.com, compressed both ways', async (_name, flags, options) => {
    await withServer(undefined, async (server, sessions) => {
      const input = logText(4 * MiB);
      const result = await runSsh(['cat'], {
        port: server.port,
        identityFile: key.privatePath,
        authentication: 'publickey',
        flags,
        options,
        input,
        timeoutMs: 60_000,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.negotiated.clientToServer?.compression).toBe('zlib@openssh.com');
      expect(result.negotiated.serverToClient?.compression).toBe('zlib@openssh.com');
      expect(result.stderr).toMatch(/Enabling compression at level 6/);
      expect(result.stdout.length).toBe(input.length);
      expect(sha256(result.stdout)).toBe(sha256(input));
      const session = sessions[0]!;
      expect(session.algorithms?.compressionClientToServer).toBe('zlib@openssh.com');
      expect(session.metrics.bytesReceived).toBeLessThan(input.length / 3);
      expect(session.metrics.bytesSent).toBeLessThan(input.length / 3);
    });
  });

  it('ssh -C gets plain zlib (from the first NEWKEYS) when our server offers only that', async () => {
    await withServer(['zlib', 'none'], async (server, sessions) => {
      const input = logText(MiB);
      const result = await runSsh(['cat'], { port: server.port, identityFile: key.privatePath, authentication: 'publickey', flags: ['-C'], input });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.negotiated.clientToServer?.compression).toBe('zlib');
      expect(sha256(result.stdout)).toBe(sha256(input));
      expect(sessions[0]!.metrics.bytesSent).toBeLessThan(input.length / 3);
    });
  });

  it('ssh -C settles on none against our server configured without compression', async () => {
    await withServer(['none'], async (server) => {
      const result = await runSsh(['echo plain'], { port: server.port, identityFile: key.privatePath, authentication: 'publickey', flags: ['-C'] });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toBe('plain\n');
      expect(result.negotiated.clientToServer?.compression).toBe('none');
    });
  });

  it('ssh without -C gets no compression from our default server', async () => {
    await withServer(undefined, async (server) => {
      const result = await runSsh(['echo plain'], { port: server.port, identityFile: key.privatePath, authentication: 'publickey' });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.negotiated.serverToClient?.compression).toBe('none');
    });
  });
});

describe.skipIf(skip)('OpenSSH interop: our client with compression against sshd', () => {
  let sshd: Sshd;
  let user: TestUser;
  let userKey: KeyPair;
  let hostKeys: KeyPair[];

  beforeAll(async () => {
    ({ sshd, user, userKey, hostKeys } = await startSshdForUser(['Compression yes']));
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  async function login(compression: string[]) {
    const config = SessionConfig.default();
    config.compressionAlgorithms = compression;
    const client = await connectClient(sshd.port, hostKeys, config);
    if (!(await client.authenticate({ username: user.username, privateKeys: [userKey] }))) throw new Error('Login to sshd failed');
    return client;
  }

  it('pipes 12 MiB through cat under zlib@openssh.com with re-keys midway, fewer bytes on the wire', async () => {
    const client = await login(['zlib@openssh.com', 'none']);
    try {
      expect(client.algorithms?.compressionClientToServer).toBe('zlib@openssh.com');
      expect(client.algorithms?.compressionServerToClient).toBe('zlib@openssh.com');
      const data = logText(12 * MiB);
      const kexBefore = client.metrics.keyExchanges;
      const before = client.metrics;
      const channel = await client.openChannel();
      expect(await channel.exec('cat')).toBe(true);
      const writing = (async () => {
        const writer = channel.writable.getWriter();
        for (let at = 0; at < data.length; at += MiB) {
          // Two re-keys from our side while sshd is echoing: both zlib streams restart at NEWKEYS.
          if (at === 4 * MiB) await client.rekey().then(() => client.rekey());
          await writer.write(data.subarray(at, at + MiB));
        }
        await writer.close();
      })();
      const [echoed] = await Promise.all([hashStream(channel.readable), writing]);
      expect(echoed).toEqual({ hash: sha256(data), bytes: data.length });
      expect((await channel.closed).exitStatus).toBe(0);
      expect(client.metrics.keyExchanges).toBe(kexBefore + 2);
      expect(client.metrics.bytesSent - before.bytesSent).toBeLessThan(data.length / 3);
      expect(client.metrics.bytesReceived - before.bytesReceived).toBeLessThan(data.length / 3);
      await sshd.waitForLog(/compression: zlib@openssh\.com/);
    } finally {
      await client.close();
    }
  }, 120_000);

  it('uploads 8 MiB that sshd hashes to the same SHA-256 under compression', async () => {
    const client = await login(['zlib@openssh.com', 'none']);
    try {
      const data = logText(8 * MiB);
      const channel = await client.openChannel();
      expect(await channel.exec('sha256sum')).toBe(true);
      const writer = channel.writable.getWriter();
      const writing = writer.write(data).then(() => writer.close());
      const [stdout] = await Promise.all([new Response(channel.readable).text(), writing]);
      expect(stdout).toBe(`${sha256(data)}  -\n`);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('falls back to none when asking only for plain zlib, which sshd does not offer', async () => {
    const client = await login(['zlib', 'none']);
    try {
      expect(client.algorithms?.compressionClientToServer).toBe('none');
    } finally {
      await client.close();
    }
  });
});
