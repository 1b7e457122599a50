/**
 * What a new user does first, on whatever runtime runs this spec (Node, Bun, Deno: the runtime
 * matrix of `.ci/runtimes` runs it under each): our client logs in to a test sshd, runs a command
 * and gets its output and exit status, and pipes 8 MiB through `cat` with the same SHA-256 back,
 * under each AEAD cipher and one encrypt-then-MAC pair, since runtimes differ in the ciphers their
 * node:crypto has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { skipWithoutOpenSsh } from '../helpers/openssh.js';
import { connectClient, execText, hashStream, patternSource, startSshdForUser, type SshdForUser } from './interop-sessions.js';

const skip = skipWithoutOpenSsh();
const MiB = 1024 * 1024;
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
  ? 'Bun'
  : typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined'
    ? 'Deno'
    : `Node ${process.versions.node}`;

const pairs = [
  { cipher: 'aes256-gcm@openssh.com', mac: 'hmac-sha2-256-etm@openssh.com' },
  { cipher: 'chacha20-poly1305@openssh.com', mac: 'hmac-sha2-256-etm@openssh.com' },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com' },
];

describe.skipIf(skip)(`OpenSSH from ${runtime}: exec and 8 MiB through cat`, () => {
  let server: SshdForUser | undefined;

  beforeAll(async () => {
    server = await startSshdForUser();
  });
  afterAll(async () => {
    await server?.sshd.stop();
  });

  it.each(pairs)('runs a command and pipes 8 MiB through cat under $cipher', async ({ cipher, mac }) => {
    const config = Object.assign(SessionConfig.default(), { encryptionAlgorithms: [cipher], hmacAlgorithms: [mac] });
    const { sshd, user, userKey, hostKeys } = server!;
    const client = await connectClient(sshd.port, hostKeys, config);
    try {
      expect(await client.authenticate({ username: user.username, privateKeys: [userKey] })).toBe(true);
      expect(await execText(client, 'echo out; echo err >&2; exit 3')).toEqual({ stdout: 'out\n', stderr: 'err\n', exitStatus: 3 });
      const source = patternSource(8 * MiB, 7);
      const channel = await client.openChannel();
      expect(await channel.exec('cat')).toBe(true);
      const [echoed] = await Promise.all([hashStream(channel.readable), source.stream().pipeTo(channel.writable)]);
      expect(echoed).toEqual({ hash: source.hash, bytes: 8 * MiB });
      expect((await channel.closed).exitStatus).toBe(0);
    } finally {
      await client.close();
    }
  });
});
