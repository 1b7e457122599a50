/**
 * Unix-domain socket forwarding interop with OpenSSH (PROTOCOL §2.4): our client asks a test sshd
 * for `direct-streamlocal@openssh.com` channels and `streamlocal-forward@openssh.com` listeners;
 * OpenSSH's `ssh -N -L path:path` / `ssh -N -R path:path` forward through our server. Every path
 * ends at a real echo server on a socket and is checked by SHA-256.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync } from 'node:fs';
import { importKey } from '../../lib/keys/index.js';
import { TcpServer } from '../../lib/tcp/index.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';
import type { ClientSession } from '../../lib/client-session.js';
import { getPortForwardingService, SocketForwardChannelOpeningEvent, SocketForwardRequestEvent } from '../../lib/forwarding/index.js';
import type { ChannelOpeningEvent } from '../../lib/mux/events.js';
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
import { connectClient } from './interop-sessions.js';
import { SshForwards, startForwardingServer } from './ssh-forwarding-fixtures.js';
import { forwardingConfig, echoThrough, sha256, waitUntil } from '../forwarding/tcp-fixtures.js';
import { socketDirectory, startUnixEchoServer, unixConnect, unixExchange } from '../forwarding/unix-fixtures.js';

const skip = skipWithoutOpenSsh();
const MiB = 1024 * 1024;

/** A socket directory the sshd test user may use too (sshd runs its sessions as that user). */
function sharedSocketDirectory(): ReturnType<typeof socketDirectory> {
  const dir = socketDirectory();
  chmodSync(dir.path(''), 0o777);
  return dir;
}

async function sharedEcho(path: string): Promise<() => Promise<void>> {
  const echo = await startUnixEchoServer(path);
  chmodSync(path, 0o777);
  return echo.close;
}

describe.skipIf(skip)('OpenSSH interop: our client forwards Unix sockets through sshd', () => {
  let sshd: Sshd;
  let user: TestUser;
  let hostKeys: KeyPair[];
  let dir: ReturnType<typeof socketDirectory>;
  let closeEcho: () => Promise<void>;
  let echoPath: string;
  let client: ClientSession;

  beforeAll(async () => {
    user = ensureTestUser();
    sshd = await startSshd();
    hostKeys = await Promise.all(HOST_KEY_TYPES.map((type) => importKey(hostPublicKey(sshd, type))));
    dir = sharedSocketDirectory();
    echoPath = dir.path('echo.sock');
    closeEcho = await sharedEcho(echoPath);
  });
  afterAll(async () => {
    await closeEcho?.();
    await sshd?.stop();
    dir?.remove();
  });
  afterEach(async () => {
    await client?.close();
  });

  async function login(): Promise<ClientSession> {
    client = await connectClient(sshd.port, hostKeys, forwardingConfig());
    if (!(await client.authenticate({ username: user.username, password: user.password }))) throw new Error('Login to sshd failed');
    return client;
  }

  it('streams 2 MiB to a socket on the sshd side through direct-streamlocal and back intact', async () => {
    const pfs = getPortForwardingService(await login());
    const channel = await pfs.streamToRemoteSocket(echoPath);
    const data = randomBytes(2 * MiB);
    expect(sha256(await echoThrough(channel, data))).toBe(sha256(data));
  });

  it('has sshd listen on a socket path and forward its connections to our socket, then cancels', async () => {
    const pfs = getPortForwardingService(await login());
    const remotePath = dir.path('sshd-listens.sock');
    const forward = await pfs.forwardFromRemoteSocket(remotePath, echoPath);
    await waitUntil(() => existsSync(remotePath), 'sshd creates the socket');
    const data = randomBytes(MiB);
    const answers = await Promise.all([1, 2].map(() => unixExchange(remotePath, data)));
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    await forward.close();
    // sshd stops listening but leaves the socket file behind.
    const afterCancel = await unixConnect(remotePath).then((socket) => (socket.destroy(), 'connected'), (e: NodeJS.ErrnoException) => e.code);
    expect(afterCancel).toBe('ECONNREFUSED');
  });
});

describe.skipIf(skip)('OpenSSH interop: ssh forwards Unix sockets through our server', () => {
  let server: TcpServer;
  let dir: ReturnType<typeof socketDirectory>;
  let closeEcho: () => Promise<void>;
  let echoPath: string;
  const ssh = new SshForwards(() => server.port!);
  const opens: ChannelOpeningEvent[] = [];
  const requests: SocketForwardRequestEvent[] = [];

  beforeAll(async () => {
    dir = sharedSocketDirectory();
    echoPath = dir.path('echo.sock');
    closeEcho = await sharedEcho(echoPath);
    server = await startForwardingServer((session) => {
      session.onChannelOpening = (e) => void opens.push(e);
      session.onRequest = (e) => {
        if (!(e instanceof SocketForwardRequestEvent)) return false;
        requests.push(e);
        return true;
      };
    });
  });
  beforeEach(() => {
    opens.length = 0;
  });
  afterAll(async () => {
    await server?.close();
    await closeEcho?.();
    dir?.remove();
  });
  afterEach(() => ssh.stop());

  const forwardWithSsh = (flags: string[]): SshProcess => ssh.start(flags);

  it('serves ssh -L path:path: connections to its local socket reach our side through direct-streamlocal', async () => {
    const local = dir.path('ssh-local.sock');
    const sshProcess = forwardWithSsh(['-L', `${local}:${echoPath}`]);
    await waitUntil(() => existsSync(local), 'ssh -L creates its local socket', 15_000);
    const data = randomBytes(2 * MiB);
    const answers = await Promise.all([unixExchange(local, data), unixExchange(local, data)]);
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    expect(opens.some((e) => e instanceof SocketForwardChannelOpeningEvent && e.socketPath === echoPath)).toBe(true);
    sshProcess.kill('SIGTERM');
    const result = await sshProcess.result;
    expect(result.stderr).not.toMatch(/open failed|administratively prohibited/);
  });

  it('serves ssh -R path:path: our server listens on the path and forwards back to ssh', async () => {
    const remote = dir.path('our-server-listens.sock');
    const sshProcess = forwardWithSsh(['-R', `${remote}:${echoPath}`]);
    await waitUntil(() => existsSync(remote), 'our server listens for ssh -R', 15_000);
    expect(requests.at(-1)?.socketPath).toBe(remote);
    const data = randomBytes(MiB);
    const answers = await Promise.all([unixExchange(remote, data), unixExchange(remote, data)]);
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    sshProcess.kill('SIGTERM');
    await sshProcess.result;
    await waitUntil(() => server.sessions.size === 0, 'the ssh session ends');
    await waitUntil(() => !existsSync(remote), 'the socket file goes with the session');
  });
});
