/**
 * Interop with the `ssh2` npm package in both directions, for aes256-gcm, chacha20-poly1305 and
 * aes128-ctr with hmac-sha2-256-etm: its Client logs into our server by password and public key,
 * runs `exec`, echoes data through a process-less subsystem channel and moves a few MiB with a
 * matching hash; its Server authenticates our client and serves `exec` and a data round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import ssh2 from 'ssh2';
import type { ClientChannel, ServerChannel } from 'ssh2';
import { ssh2Ed25519KeyPair } from '../../bench/ssh2-keys.js';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { exportPrivateKey, exportPublicKey, importKey, KeyFormat } from '../../lib/keys/index.js';
import { serveExec } from '../../lib/session/exec.js';
import type { Channel } from '../../lib/mux/channel.js';
import { connectClient, execText, hashStream, patternSource, startExecServer, type ExecServer } from './interop-sessions.js';
import { createHash } from 'node:crypto';

const MiB = 1024 * 1024;
const username = 'alice';
const password = 'ssh2-interop-Password';

interface CipherCase {
  cipher: string;
  hmac?: string;
}

const cipherCases: CipherCase[] = [
  { cipher: 'aes256-gcm@openssh.com' },
  { cipher: 'chacha20-poly1305@openssh.com' },
  { cipher: 'aes128-ctr', hmac: 'hmac-sha2-256-etm@openssh.com' },
];
const caseName = (c: CipherCase): string => (c.hmac ? `${c.cipher} + ${c.hmac}` : c.cipher);

/** Our configuration restricted to one cipher (and MAC). */
function ourConfig(c: CipherCase): SessionConfig {
  const config = SessionConfig.default();
  config.encryptionAlgorithms = [c.cipher];
  if (c.hmac) config.hmacAlgorithms = [c.hmac];
  return config;
}

/** ssh2's algorithm options restricted to one cipher (and MAC). */
function ssh2Algorithms(c: CipherCase): ssh2.Algorithms {
  return { cipher: [c.cipher as ssh2.CipherAlgorithm], ...(c.hmac ? { hmac: [c.hmac as ssh2.MacAlgorithm] } : {}) };
}

/** Serves `exec` through child processes, and a process-less `echo` subsystem that returns what it reads. */
function serveExecAndEcho(channel: Channel): void {
  serveExec(channel);
  const exec = channel.onRequest!;
  channel.onRequest = (e) => {
    if (e.requestType !== 'subsystem') return exec(e);
    if (e.subsystem !== 'echo') return false;
    void channel.readable
      .pipeTo(channel.writable)
      .then(() => channel.close({ exitStatus: 0 }))
      .catch(() => {});
    return true;
  };
}

type Ssh2Login = { password: string } | { privateKey: string };

/** Connects ssh2's Client to our server; rejects with ssh2's error (e.g. level `client-authentication`). */
async function ssh2Connect(
  port: number,
  hostKey: KeyPair,
  options: { login: Ssh2Login; cipher: CipherCase },
): Promise<{ client: ssh2.Client; negotiated: ssh2.NegotiatedAlgorithms }> {
  const client = new ssh2.Client();
  let negotiated: ssh2.NegotiatedAlgorithms | undefined;
  client.on('handshake', (n) => (negotiated = n));
  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  client.connect({
    host: '127.0.0.1',
    port,
    username,
    ...options.login,
    algorithms: ssh2Algorithms(options.cipher),
    hostVerifier: (key: Buffer) => key.equals(hostKey.publicKeyBlob),
    readyTimeout: 10_000,
  });
  try {
    await ready;
  } catch (error) {
    client.end();
    throw error;
  }
  return { client, negotiated: negotiated! };
}

/** Runs `command` through ssh2's Client and collects its output and exit code. */
function ssh2Exec(client: ssh2.Client, command: string): Promise<{ stdout: string; stderr: string; code: number | undefined }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      let stdout = '';
      let stderr = '';
      let code: number | undefined;
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('exit', (c: number | null) => (code = c ?? undefined));
      stream.on('close', () => resolve({ stdout, stderr, code }));
    });
  });
}

/** Writes `bytes` of a pattern into an ssh2 channel (respecting 'drain') and hashes what comes back. */
async function ssh2RoundTrip(stream: ClientChannel | ServerChannel, bytes: number, seed: number): Promise<{ sent: string; received: string; count: number }> {
  const source = patternSource(bytes, seed);
  const hash = createHash('sha256');
  let count = 0;
  stream.on('data', (d: Buffer) => {
    hash.update(d);
    count += d.length;
  });
  const closed = once(stream, 'close');
  for await (const chunk of source.stream()) if (!stream.write(chunk)) await once(stream, 'drain');
  stream.end();
  await closed;
  return { sent: source.hash, received: hash.digest('hex'), count };
}

describe('ssh2 interop: the ssh2 Client against our server', () => {
  let server: ExecServer;
  let hostKey: KeyPair;
  const userKeys: KeyPair[] = [];

  beforeAll(async () => {
    hostKey = await generateKeyPair('ssh-ed25519');
    userKeys.push(await generateKeyPair('ssh-ed25519'), await generateKeyPair('ecdsa-sha2-nistp256'), await generateKeyPair('rsa-sha2-512', { keySize: 2048 }));
    server = await startExecServer({
      hostKeys: [hostKey],
      onChannel: serveExecAndEcho,
      onAuthenticating: (e) => {
        if (e.username !== username) return false;
        if (e.authenticationType === 'password') return e.password === password;
        if (e.authenticationType === 'publickey') return userKeys.some((k) => k.equals(e.publicKey!));
        return false;
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(cipherCases.map((c) => [caseName(c), c] as const))('logs in by password (%s) and runs exec with output and exit code', async (_name, c) => {
    const { client, negotiated } = await ssh2Connect(server.port, hostKey, { login: { password }, cipher: c });
    try {
      expect(negotiated.cs.cipher).toBe(c.cipher);
      expect(negotiated.sc.cipher).toBe(c.cipher);
      if (c.hmac) expect(negotiated.cs.mac).toBe(c.hmac);
      expect(await ssh2Exec(client, 'echo out; echo err >&2; exit 5')).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 5 });
    } finally {
      client.end();
    }
  });

  it.each(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa'])('logs in with a %s key we exported in OpenSSH format', async (type) => {
    const key = userKeys.find((k) => k.keyType === type)!;
    const privateKey = await exportPrivateKey(key, KeyFormat.OpenSsh);
    const { client } = await ssh2Connect(server.port, hostKey, { login: { privateKey }, cipher: cipherCases[0]! });
    try {
      expect((await ssh2Exec(client, 'echo "key ok"')).stdout).toBe('key ok\n');
      const signed = server.events.filter((e) => e.authenticationType === 'publickey' && !e.isQuery).at(-1)!;
      expect(signed.publicKey!.equals(key)).toBe(true);
      // ssh2 reads our server-sig-algs and signs RSA with SHA-2, never SHA-1.
      expect(signed.publicKeyAlgorithm).toMatch(type === 'ssh-rsa' ? /^rsa-sha2-(256|512)$/ : new RegExp(`^${type}$`));
    } finally {
      client.end();
    }
  });

  it('is refused with a wrong password', async () => {
    const failed = ssh2Connect(server.port, hostKey, { login: { password: 'wrong' }, cipher: cipherCases[0]! });
    await expect(failed).rejects.toMatchObject({ level: 'client-authentication' });
  });

  it.each(cipherCases.map((c) => [caseName(c), c] as const))('echoes 4 MiB through a subsystem channel with no process behind it (%s)', async (_name, c) => {
    const { client } = await ssh2Connect(server.port, hostKey, { login: { password }, cipher: c });
    try {
      const stream = await new Promise<ClientChannel>((resolve, reject) =>
        client.subsys('echo', (error, s) => (error ? reject(error) : resolve(s))),
      );
      const result = await ssh2RoundTrip(stream, 4 * MiB, 11);
      expect(result.count).toBe(4 * MiB);
      expect(result.received).toBe(result.sent);
    } finally {
      client.end();
    }
  });

  it('sends 4 MiB to a command on our server that hashes it', async () => {
    const { client } = await ssh2Connect(server.port, hostKey, { login: { password }, cipher: cipherCases[1]! });
    try {
      const source = patternSource(4 * MiB, 12);
      const stream = await new Promise<ClientChannel>((resolve, reject) =>
        client.exec('sha256sum', (error, s) => (error ? reject(error) : resolve(s))),
      );
      let stdout = '';
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      const closed = once(stream, 'close');
      for await (const chunk of source.stream()) if (!stream.write(chunk)) await once(stream, 'drain');
      stream.end();
      await closed;
      expect(stdout).toBe(`${source.hash}  -\n`);
    } finally {
      client.end();
    }
  });
});

describe('ssh2 interop: our client against the ssh2 Server', () => {
  let server: ssh2.Server;
  let port: number;
  let hostKey: KeyPair;
  const userKeys: KeyPair[] = [];
  const connections = new Set<ssh2.Connection>();
  const methods: string[] = [];

  beforeAll(async () => {
    const hostKeys = ssh2Ed25519KeyPair();
    hostKey = await importKey(hostKeys.public);
    userKeys.push(await generateKeyPair('ssh-ed25519'), await generateKeyPair('ecdsa-sha2-nistp384'), await generateKeyPair('rsa-sha2-512', { keySize: 2048 }));
    const allowedKeys = await Promise.all(userKeys.map(async (k) => ssh2.utils.parseKey(await exportPublicKey(k)) as ssh2.ParsedKey));
    server = new ssh2.Server({ hostKeys: [hostKeys.private] }, (connection) => {
      connections.add(connection);
      connection.on('close', () => connections.delete(connection));
      connection.on('error', () => {});
      connection.on('authentication', (ctx) => {
        if (ctx.username !== username) return ctx.reject(['password', 'publickey']);
        if (ctx.method === 'password' && ctx.password === password) {
          methods.push('password');
          return ctx.accept();
        }
        const allowed = ctx.method === 'publickey' ? allowedKeys.find((k) => ctx.key.data.equals(k.getPublicSSH())) : undefined;
        if (ctx.method === 'publickey' && allowed !== undefined) {
          if (ctx.signature === undefined) return ctx.accept();
          if (allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) {
            methods.push(`publickey ${ctx.key.algo}`);
            return ctx.accept();
          }
        }
        ctx.reject(['password', 'publickey']);
      });
      connection.on('ready', () => {
        connection.on('session', (accept) => {
          accept().on('exec', (acceptExec, _reject, info) => {
            const stream = acceptExec();
            if (info.command === 'cat') {
              stream.pipe(stream, { end: false });
              stream.once('end', () => {
                stream.exit(0);
                stream.end();
              });
              return;
            }
            stream.write(`ran ${info.command}\n`);
            stream.stderr.write('to stderr\n');
            stream.exit(42);
            stream.end();
          });
        });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const connection of connections) connection.end();
    await new Promise((resolve) => server?.close(resolve));
  });

  it.each(cipherCases.map((c) => [caseName(c), c] as const))('authenticates by password (%s) and runs an exec the ssh2 server handles', async (_name, c) => {
    const client = await connectClient(port, [hostKey], ourConfig(c));
    try {
      expect(client.algorithms!.encryptionClientToServer).toBe(c.cipher);
      if (c.hmac) expect(client.algorithms!.macClientToServer).toBe(c.hmac);
      expect(await client.authenticate({ username, password })).toBe(true);
      expect(methods.at(-1)).toBe('password');
      expect(await execText(client, 'hello')).toEqual({ stdout: 'ran hello\n', stderr: 'to stderr\n', exitStatus: 42 });
    } finally {
      await client.close();
    }
  });

  it.each(['ssh-ed25519', 'ecdsa-sha2-nistp384', 'ssh-rsa'])('authenticates with a %s key whose signature the ssh2 server verifies', async (type) => {
    const client = await connectClient(port, [hostKey]);
    try {
      const key = userKeys.find((k) => k.keyType === type)!;
      expect(await client.authenticate({ username, privateKeys: [key] })).toBe(true);
      expect(client.authentication?.method).toBe('publickey');
      expect(methods.at(-1)).toMatch(new RegExp(`^publickey ${type}$`));
      expect((await execText(client, 'by-key')).stdout).toBe('ran by-key\n');
    } finally {
      await client.close();
    }
  });

  it('resolves false for a wrong password', async () => {
    const client = await connectClient(port, [hostKey]);
    try {
      expect(await client.authenticate({ username, password: 'wrong' })).toBe(false);
    } finally {
      await client.close();
    }
  });

  it.each(cipherCases.map((c) => [caseName(c), c] as const))('round-trips 4 MiB through the ssh2 server (%s)', async (_name, c) => {
    const client = await connectClient(port, [hostKey], ourConfig(c));
    try {
      expect(await client.authenticate({ username, password })).toBe(true);
      const source = patternSource(4 * MiB, 21);
      const channel = await client.openChannel();
      expect(await channel.exec('cat')).toBe(true);
      const [echoed] = await Promise.all([hashStream(channel.readable), source.stream().pipeTo(channel.writable)]);
      expect(echoed).toEqual({ hash: source.hash, bytes: 4 * MiB });
      expect((await channel.closed).exitStatus).toBe(0);
    } finally {
      await client.close();
    }
  });
});
