/**
 * Port forwarding interop with OpenSSH (RFC 4254 §7): our client asks a test sshd for
 * `direct-tcpip` channels and `tcpip-forward` listeners (fixed port and port 0, then cancel); and
 * OpenSSH's `ssh -N -L` / `ssh -N -R` forward through our server. Every path ends at a real echo
 * server on 127.0.0.1 and is checked by SHA-256.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ChannelOpenError, ChannelOpenFailureReason } from '../../lib/errors.js';
import { importKey } from '../../lib/keys/index.js';
import { TcpServer } from '../../lib/tcp/index.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { RequestEvent } from '../../lib/mux/events.js';
import { getPortForwardingService, PortForwardRequestEvent } from '../../lib/forwarding/index.js';
import {
  ensureTestUser,
  hostPublicKey,
  HOST_KEY_TYPES,
  skipWithoutOpenSsh,
  startSshd,
  type SshProcess,
  type Sshd,
  type TestUser,
} from '../helpers/openssh.js';
import { getFreePort } from '../helpers/free-port.js';
import { connectClient } from './interop-sessions.js';
import { SshForwards, startForwardingServer } from './ssh-forwarding-fixtures.js';
import { exchange, forwardingConfig, echoThrough, sha256, startEchoServer, tcpConnect, waitUntil, type TestServer } from '../forwarding/tcp-fixtures.js';

const skip = skipWithoutOpenSsh();
const MiB = 1024 * 1024;


/** Resolves once something accepts connections on 127.0.0.1:port. */
async function waitForListener(port: number, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      (await tcpConnect(port)).destroy();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`Nothing listens on port ${port}: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe.skipIf(skip)('OpenSSH interop: our client forwards ports through sshd', () => {
  let sshd: Sshd;
  let user: TestUser;
  let hostKeys: KeyPair[];
  let echo: TestServer;
  let client: ClientSession;

  beforeAll(async () => {
    user = ensureTestUser();
    sshd = await startSshd();
    hostKeys = await Promise.all(HOST_KEY_TYPES.map((type) => importKey(hostPublicKey(sshd, type))));
    echo = await startEchoServer();
  });
  afterAll(async () => {
    await echo?.close();
    await sshd?.stop();
  });
  afterEach(async () => {
    await client?.close();
  });

  async function login(): Promise<ClientSession> {
    client = await connectClient(sshd.port, hostKeys, forwardingConfig());
    if (!(await client.authenticate({ username: user.username, password: user.password }))) throw new Error('Login to sshd failed');
    return client;
  }

  it('streams 2 MiB to an echo server through direct-tcpip and back intact', async () => {
    const pfs = getPortForwardingService(await login());
    const channel = await pfs.streamToRemotePort('127.0.0.1', echo.port);
    const data = randomBytes(2 * MiB);
    expect(sha256(await echoThrough(channel, data))).toBe(sha256(data));
  });

  it('gets connectFailed when sshd cannot reach the target', async () => {
    const pfs = getPortForwardingService(await login());
    const closedPort = await getFreePort();
    const error = await pfs.streamToRemotePort('127.0.0.1', closedPort).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelOpenError);
    expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.connectFailed);
  });

  it('has sshd listen on a port it chose and forward its connections to us', async () => {
    const pfs = getPortForwardingService(await login());
    const forward = await pfs.forwardFromRemotePort(0, '127.0.0.1', echo.port);
    expect(forward.remotePort).toBeGreaterThan(0);
    const data = randomBytes(MiB);
    const answers = await Promise.all([1, 2, 3].map(() => exchange(forward.remotePort, data)));
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    await forward.close();
    await expect(tcpConnect(forward.remotePort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('has sshd listen on a fixed port, then cancels it', async () => {
    const pfs = getPortForwardingService(await login());
    const port = await getFreePort();
    const forward = await pfs.forwardFromRemotePort({ address: 'localhost', port }, '127.0.0.1', echo.port);
    expect(forward.remotePort).toBe(port);
    const data = randomBytes(64 * 1024);
    expect(sha256(await exchange(port, data))).toBe(sha256(data));
    await forward.close();
    await expect(tcpConnect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe.skipIf(skip)('OpenSSH interop: ssh forwards ports through our server', () => {
  let server: TcpServer;
  let echo: TestServer;
  const ssh = new SshForwards(() => server.port!);
  const forwardRequests: PortForwardRequestEvent[] = [];

  beforeAll(async () => {
    echo = await startEchoServer();
    server = await startForwardingServer((session) => {
      session.onRequest = (e: RequestEvent) => {
        if (!(e instanceof PortForwardRequestEvent)) return false;
        forwardRequests.push(e);
        return true;
      };
    });
  });
  afterAll(async () => {
    await server?.close();
    await echo?.close();
  });
  afterEach(() => ssh.stop());

  const forwardWithSsh = (flags: string[]): SshProcess => ssh.start(flags);

  it('serves ssh -L: connections to its local port reach the echo server through direct-tcpip', async () => {
    const port = await getFreePort();
    const sshProcess = forwardWithSsh(['-L', `127.0.0.1:${port}:127.0.0.1:${echo.port}`]);
    await waitForListener(port, 'ssh -L did not start');
    const data = randomBytes(2 * MiB);
    const answers = await Promise.all([exchange(port, data), exchange(port, data)]);
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    sshProcess.kill('SIGTERM');
    const result = await sshProcess.result;
    expect(result.stderr).not.toMatch(/open failed|administratively prohibited/);
  });

  it('serves ssh -R on a fixed port: our server listens and forwards back to ssh', async () => {
    const port = await getFreePort();
    const sshProcess = forwardWithSsh(['-R', `127.0.0.1:${port}:127.0.0.1:${echo.port}`]);
    await waitForListener(port, 'our server did not listen for ssh -R');
    expect(forwardRequests.at(-1)).toMatchObject({ addressToBind: '127.0.0.1', portToBind: port });
    const data = randomBytes(MiB);
    const answers = await Promise.all([exchange(port, data), exchange(port, data)]);
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    sshProcess.kill('SIGTERM');
    await sshProcess.result;
    await waitUntil(() => server.sessions.size === 0, 'the ssh session ends');
    await expect(tcpConnect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('serves ssh -R 0: ssh learns the port our server allocated', async () => {
    const sshProcess = forwardWithSsh(['-R', `127.0.0.1:0:127.0.0.1:${echo.port}`]);
    const stderr = captureStderr(sshProcess);
    let port: number | undefined;
    await waitUntil(
      () => {
        const match = /Allocated port (\d+) for remote forward/.exec(stderr());
        port = match ? Number(match[1]) : undefined;
        return port !== undefined;
      },
      'ssh reports the allocated port',
      15_000,
    );
    expect(forwardRequests.at(-1)).toMatchObject({ portToBind: 0 });
    const data = randomBytes(256 * 1024);
    expect(sha256(await exchange(port!, data))).toBe(sha256(data));
  });
});

/** What ssh writes to stderr from now on (spawnSsh hands its log over only at exit). */
function captureStderr(sshProcess: SshProcess): () => string {
  let text = '';
  sshProcess.child.stderr!.on('data', (chunk: string | Buffer) => (text += chunk.toString()));
  return () => text;
}
