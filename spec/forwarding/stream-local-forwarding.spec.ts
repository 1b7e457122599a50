import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { ChannelOpenError, ChannelOpenFailureReason, SshError } from '../../lib/errors.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { ServerSession } from '../../lib/server-session.js';
import type { ChannelOpeningEvent, RequestEvent } from '../../lib/mux/events.js';
import {
  getPortForwardingService,
  SocketForwardChannelOpeningEvent,
  SocketForwardRequestEvent,
  type PortForwardingService,
} from '../../lib/forwarding/index.js';
import { sessionPair } from '../helpers/pairs.js';
import { forwardingConfig, echoThrough, sha256, waitUntil } from './tcp-fixtures.js';
import { socketDirectory, startUnixEchoServer, unixConnect, unixExchange } from './unix-fixtures.js';

const MiB = 1024 * 1024;

describe('Unix-domain socket forwarding (OpenSSH PROTOCOL §2.4)', () => {
  let client: ClientSession;
  let server: ServerSession;
  let clientPfs: PortForwardingService;
  let serverPfs: PortForwardingService;
  let dir: ReturnType<typeof socketDirectory>;
  let closers: (() => Promise<void>)[];

  beforeEach(async () => {
    ({ client, server } = await sessionPair({ clientConfig: forwardingConfig(), serverConfig: forwardingConfig() }));
    clientPfs = getPortForwardingService(client);
    serverPfs = getPortForwardingService(server);
    dir = socketDirectory();
    closers = [];
  });
  afterEach(async () => {
    await client.close();
    await server.close();
    await Promise.all(closers.map((close) => close()));
    dir.remove();
  });

  async function echoAt(name: string): Promise<string> {
    const path = dir.path(name);
    const echo = await startUnixEchoServer(path);
    closers.push(echo.close);
    return path;
  }

  it('streams 2 MiB through direct-streamlocal to a socket on the server and back intact', async () => {
    const target = await echoAt('target.sock');
    const opened: ChannelOpeningEvent[] = [];
    server.onChannelOpening = (e) => void opened.push(e);
    const channel = await clientPfs.streamToRemoteSocket(target);
    const data = randomBytes(2 * MiB);
    expect(sha256(await echoThrough(channel, data))).toBe(sha256(data));
    expect(opened[0]).toBeInstanceOf(SocketForwardChannelOpeningEvent);
    expect((opened[0] as SocketForwardChannelOpeningEvent).socketPath).toBe(target);
  });

  it('fails the open with connectFailed when nothing listens on the path', async () => {
    const error = await clientPfs.streamToRemoteSocket(dir.path('missing.sock')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelOpenError);
    expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.connectFailed);
    expect((error as ChannelOpenError).message).toContain('missing.sock');
  });

  it('lets the application veto a socket open before anything is connected', async () => {
    const echo = await startUnixEchoServer(dir.path('guarded.sock'));
    closers.push(echo.close);
    server.onChannelOpening = (e) => {
      if (e instanceof SocketForwardChannelOpeningEvent) e.reject(ChannelOpenFailureReason.administrativelyProhibited, `No access to ${e.socketPath}`);
    };
    const error = await clientPfs.streamToRemoteSocket(dir.path('guarded.sock')).catch((e: unknown) => e);
    expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.administrativelyProhibited);
    expect(echo.accepted()).toBe(0);
  });

  it('refuses direct-streamlocal on a client by default, as OpenSSH does', async () => {
    const target = await echoAt('client-side.sock');
    const error = await serverPfs.streamToRemoteSocket(target).catch((e: unknown) => e);
    expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.administrativelyProhibited);
  });

  it('listens on a local socket and forwards each connection to the remote socket (ssh -L path:path)', async () => {
    const target = await echoAt('remote-target.sock');
    const local = dir.path('local.sock');
    const forwarder = await clientPfs.forwardToRemoteSocket(local, target);
    expect(forwarder).toMatchObject({ localPath: local, remotePath: target, isClosed: false });
    expect(clientPfs.localSocketForwarders).toEqual([forwarder]);
    const data = randomBytes(MiB);
    const answers = await Promise.all([1, 2, 3].map(() => unixExchange(local, data)));
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    await forwarder.close();
    expect(clientPfs.localSocketForwarders).toEqual([]);
    expect(existsSync(local)).toBe(false);
    await expect(unixConnect(local)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does not replace an existing file at the local path', async () => {
    const local = dir.path('taken.sock');
    writeFileSync(local, 'not a socket');
    await expect(clientPfs.forwardToRemoteSocket(local, '/nowhere')).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('has the peer listen on a socket path with consent and forward back to a local socket (ssh -R path:path)', async () => {
    const target = await echoAt('client-target.sock');
    const remote = dir.path('server-listens.sock');
    const requests: RequestEvent[] = [];
    server.onRequest = (e) => {
      requests.push(e);
      return e instanceof SocketForwardRequestEvent && e.socketPath === remote;
    };
    const forward = await clientPfs.forwardFromRemoteSocket(remote, target);
    expect(forward).toMatchObject({ remotePath: remote, localPath: target });
    expect(requests[0]).toBeInstanceOf(SocketForwardRequestEvent);
    const data = randomBytes(MiB);
    const answers = await Promise.all([1, 2].map(() => unixExchange(remote, data)));
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    await forward.close();
    expect(clientPfs.remoteSocketForwarders).toEqual([]);
    await waitUntil(() => !existsSync(remote), 'the server stops listening on the path');
  });

  it('refuses a socket listen request unless the application consents', async () => {
    const error = await clientPfs.forwardFromRemoteSocket(dir.path('nope.sock'), dir.path('x.sock')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect((error as SshError).message).toContain('nope.sock');
    expect(existsSync(dir.path('nope.sock'))).toBe(false);
  });

  it('stops socket listeners and marks socket forwards closed when the session ends', async () => {
    const target = await echoAt('t.sock');
    server.onRequest = () => true;
    const local = await clientPfs.forwardToRemoteSocket(dir.path('l.sock'), target);
    const remote = await clientPfs.forwardFromRemoteSocket(dir.path('r.sock'), target);
    expect(serverPfs.listenerCount).toBe(1);
    await client.close();
    expect(local.isClosed).toBe(true);
    expect(remote.isClosed).toBe(true);
    await waitUntil(() => !existsSync(dir.path('l.sock')) && !existsSync(dir.path('r.sock')), 'both socket files are removed');
  });
});
