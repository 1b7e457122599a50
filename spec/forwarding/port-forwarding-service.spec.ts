import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SessionConfig } from '../../lib/config.js';
import { ChannelOpenError, ChannelOpenFailureReason, SshError } from '../../lib/errors.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { ServerSession } from '../../lib/server-session.js';
import type { ChannelOpeningEvent, RequestEvent } from '../../lib/mux/events.js';
import {
  addPortForwardingService,
  encodeForwardedTcpip,
  getPortForwardingService,
  PortForwardChannelOpeningEvent,
  PortForwardRequestEvent,
  type PortForwardingService,
} from '../../lib/forwarding/index.js';
import { sessionPair } from '../helpers/pairs.js';
import {
  exchange,
  readToEnd,
  sha256,
  startEchoServer,
  startReplyAfterEndServer,
  startSilentServer,
  tcpConnect,
  waitUntil,
  type TestServer,
  forwardingConfig,
  collect,
} from './tcp-fixtures.js';

const MiB = 1024 * 1024;


async function refusedPort(): Promise<number> {
  const server = await startEchoServer();
  await server.close();
  return server.port;
}

describe('PortForwardingService', () => {
  let client: ClientSession;
  let server: ServerSession;
  let clientPfs: PortForwardingService;
  let serverPfs: PortForwardingService;
  let tcpServers: TestServer[];

  beforeEach(async () => {
    ({ client, server } = await sessionPair({ clientConfig: forwardingConfig(), serverConfig: forwardingConfig() }));
    clientPfs = getPortForwardingService(client);
    serverPfs = getPortForwardingService(server);
    tcpServers = [];
  });
  afterEach(async () => {
    await client.close();
    await server.close();
    await Promise.all(tcpServers.map((s) => s.close()));
  });

  async function tcp(start: () => Promise<TestServer>): Promise<TestServer> {
    const s = await start();
    tcpServers.push(s);
    return s;
  }

  it('returns one service per session and refuses sessions without it', async () => {
    expect(getPortForwardingService(client)).toBe(clientPfs);
    const plain = await sessionPair();
    try {
      expect(() => getPortForwardingService(plain.client)).toThrow(SshError);
    } finally {
      await plain.client.close();
    }
  });

  it('streams several MiB through a direct-tcpip channel to an echo server intact', async () => {
    const echo = await tcp(startEchoServer);
    const channel = await clientPfs.streamToRemotePort('127.0.0.1', echo.port);
    const data = randomBytes(4 * MiB);
    const received = collect(channel.readable);
    const writer = channel.writable.getWriter();
    for (let offset = 0; offset < data.length; offset += 100_000) await writer.write(data.subarray(offset, offset + 100_000));
    await writer.close();
    const echoed = await received;
    expect(echoed.length).toBe(data.length);
    expect(sha256(echoed)).toBe(sha256(data));
    await waitUntil(() => echo.sockets.size === 0 && serverPfs.connectionCount === 0, 'the target socket is released');
  });

  it('refuses a direct-tcpip channel whose target does not accept with connectFailed', async () => {
    const port = await refusedPort();
    const error = await clientPfs.streamToRemotePort('127.0.0.1', port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelOpenError);
    expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.connectFailed);
    expect((error as ChannelOpenError).description).toContain(`127.0.0.1:${port}`);
  });

  it('lets session.onChannelOpening see the decoded target and reject it', async () => {
    const echo = await tcp(startEchoServer);
    const seen: PortForwardChannelOpeningEvent[] = [];
    server.onChannelOpening = (e: ChannelOpeningEvent) => {
      if (e instanceof PortForwardChannelOpeningEvent) seen.push(e);
      e.reject(ChannelOpenFailureReason.administrativelyProhibited, 'Not that host');
    };
    const error = await clientPfs.streamToRemotePort('127.0.0.1', echo.port).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: ChannelOpenFailureReason.administrativelyProhibited, description: 'Not that host' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ channelType: 'direct-tcpip', host: '127.0.0.1', port: echo.port, originatorAddress: '127.0.0.1' });
    expect(echo.accepted).toBe(0);
  });

  it('refuses every direct-tcpip channel when acceptDirectConnections is false', async () => {
    const echo = await tcp(startEchoServer);
    const serverConfig = SessionConfig.default();
    addPortForwardingService(serverConfig, { acceptDirectConnections: false });
    const pair = await sessionPair({ clientConfig: forwardingConfig(), serverConfig });
    try {
      const error = await getPortForwardingService(pair.client).streamToRemotePort('127.0.0.1', echo.port).catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: ChannelOpenFailureReason.administrativelyProhibited });
      expect(echo.accepted).toBe(0);
    } finally {
      await pair.client.close();
    }
  });

  it('refuses direct-tcpip opened by a server towards a client by default', async () => {
    const echo = await tcp(startEchoServer);
    const pair = await sessionPair({ clientConfig: forwardingConfig(), serverConfig: forwardingConfig() });
    try {
      const error = await getPortForwardingService(pair.server).streamToRemotePort('127.0.0.1', echo.port).catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: ChannelOpenFailureReason.administrativelyProhibited });
      expect(echo.accepted).toBe(0);
    } finally {
      await pair.client.close();
    }
  });

  it('forwards several concurrent connections from a local listener to the remote target', async () => {
    const echo = await tcp(startEchoServer);
    const forwarder = await clientPfs.forwardToRemotePort(0, '127.0.0.1', echo.port);
    expect(forwarder.localPort).toBeGreaterThan(0);
    expect(forwarder.remotePort).toBe(echo.port);
    const payloads = Array.from({ length: 6 }, (_, i) => randomBytes(64 * 1024 * (i + 1)));
    const answers = await Promise.all(payloads.map((p) => exchange(forwarder.localPort, p)));
    answers.forEach((answer, i) => expect(sha256(answer)).toBe(sha256(payloads[i]!)));
    expect(echo.accepted).toBe(6);
    await waitUntil(() => clientPfs.connectionCount === 0 && serverPfs.connectionCount === 0, 'every forwarded socket closes');
    expect(echo.sockets.size).toBe(0);
    await forwarder.close();
    expect(forwarder.isClosed).toBe(true);
    expect(clientPfs.listenerCount).toBe(0);
    await expect(tcpConnect(forwarder.localPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('resets a local connection whose channel the peer refuses', async () => {
    const forwarder = await clientPfs.forwardToRemotePort(0, '127.0.0.1', await refusedPort());
    const socket = await tcpConnect(forwarder.localPort);
    await expect(readToEnd(socket)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await waitUntil(() => clientPfs.connectionCount === 0, 'the refused socket is released');
  });

  it('carries a half-close: the client ends its write and still receives the reply', async () => {
    const replier = await tcp(startReplyAfterEndServer);
    const forwarder = await clientPfs.forwardToRemotePort(0, '127.0.0.1', replier.port);
    const data = randomBytes(300_000);
    const answer = await exchange(forwarder.localPort, data);
    expect(answer.toString()).toBe(`received ${data.length} bytes ${sha256(data)}`);

    const channel = await clientPfs.streamToRemotePort('127.0.0.1', replier.port);
    const reply = collect(channel.readable);
    const writer = channel.writable.getWriter();
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.close();
    expect((await reply).toString()).toBe(`received 3 bytes ${sha256(new Uint8Array([1, 2, 3]))}`);
  });

  it('binds the port the server chose when 0 is requested, and forwards its connections back', async () => {
    const echo = await tcp(startEchoServer);
    const requests: PortForwardRequestEvent[] = [];
    server.onRequest = (e: RequestEvent) => {
      if (!(e instanceof PortForwardRequestEvent)) return false;
      requests.push(e);
      return true;
    };
    const forward = await clientPfs.forwardFromRemotePort(0, '127.0.0.1', echo.port);
    expect(requests).toMatchObject([{ requestType: 'tcpip-forward', addressToBind: '127.0.0.1', portToBind: 0 }]);
    expect(forward.remotePort).toBeGreaterThan(0);
    expect(serverPfs.listenerCount).toBe(1);
    const data = randomBytes(MiB);
    const answers = await Promise.all([exchange(forward.remotePort, data), exchange(forward.remotePort, data)]);
    for (const answer of answers) expect(sha256(answer)).toBe(sha256(data));
    expect(clientPfs.remoteForwarders).toEqual([forward]);
  });

  it('shows the client application each forwarded-tcpip open with the connected port and originator', async () => {
    const echo = await tcp(startEchoServer);
    server.onRequest = () => true;
    const seen: PortForwardChannelOpeningEvent[] = [];
    client.onChannelOpening = (e: ChannelOpeningEvent) => void seen.push(e as PortForwardChannelOpeningEvent);
    const forward = await clientPfs.forwardFromRemotePort({ address: 'localhost', port: 0 }, '127.0.0.1', echo.port);
    const socket = await tcpConnect(forward.remotePort);
    const originatorPort = socket.localPort;
    const answer = readToEnd(socket);
    socket.end('ping');
    expect((await answer).toString()).toBe('ping');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(PortForwardChannelOpeningEvent);
    expect(seen[0]).toMatchObject({
      channelType: 'forwarded-tcpip',
      host: 'localhost',
      port: forward.remotePort,
      originatorAddress: '127.0.0.1',
      originatorPort,
    });
  });

  it('cancels a remote forward: the server stops listening', async () => {
    const echo = await tcp(startEchoServer);
    server.onRequest = () => true;
    const forward = await clientPfs.forwardFromRemotePort(0, '127.0.0.1', echo.port);
    await forward.close();
    expect(forward.isClosed).toBe(true);
    expect(serverPfs.listenerCount).toBe(0);
    expect(clientPfs.remoteForwarders).toEqual([]);
    await expect(tcpConnect(forward.remotePort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses tcpip-forward when the server application does not authorize it', async () => {
    await expect(clientPfs.forwardFromRemotePort(0, '127.0.0.1', 9)).rejects.toThrow(SshError);
    server.onRequest = (e: RequestEvent) => e instanceof PortForwardRequestEvent && e.portToBind !== 0;
    await expect(clientPfs.forwardFromRemotePort(0, '127.0.0.1', 9)).rejects.toThrow(/refused/);
    expect(serverPfs.listenerCount).toBe(0);
  });

  it('refuses a second forward of a port already forwarded', async () => {
    server.onRequest = () => true;
    const first = await clientPfs.forwardFromRemotePort(0, '127.0.0.1', 9);
    await expect(clientPfs.forwardFromRemotePort(first.remotePort, '127.0.0.1', 9)).rejects.toThrow(SshError);
    expect(serverPfs.listenerCount).toBe(1);
  });

  it('refuses a forwarded-tcpip channel for a port it never asked for', async () => {
    const data = encodeForwardedTcpip({ connectedAddress: '127.0.0.1', connectedPort: 4444, originatorAddress: '127.0.0.1', originatorPort: 5 });
    const error = await server.openChannel('forwarded-tcpip', { data }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelOpenError);
    expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.connectFailed);
  });

  it('resets the target connection when the local client resets its socket', async () => {
    const target = await tcp(startSilentServer);
    const forwarder = await clientPfs.forwardToRemotePort(0, '127.0.0.1', target.port);
    const socket = await tcpConnect(forwarder.localPort);
    socket.write('hello');
    await waitUntil(() => target.sockets.size === 1, 'the target accepts');
    socket.resetAndDestroy();
    await waitUntil(() => target.sockets.size === 0, 'the target socket closes');
    expect(target.errors).toContain('ECONNRESET');
    await waitUntil(() => clientPfs.connectionCount === 0 && serverPfs.connectionCount === 0, 'both sides release their sockets');
  });

  it('closes listeners and resets forwarded sockets when the session closes', async () => {
    const target = await tcp(startSilentServer);
    server.onRequest = () => true;
    const local = await clientPfs.forwardToRemotePort(0, '127.0.0.1', target.port);
    const remote = await clientPfs.forwardFromRemotePort(0, '127.0.0.1', target.port);
    const viaLocal = await tcpConnect(local.localPort);
    const viaRemote = await tcpConnect(remote.remotePort);
    const ends = [viaLocal, viaRemote].map((s) => readToEnd(s).then(() => 'end', (e: NodeJS.ErrnoException) => e.code));
    await waitUntil(() => target.sockets.size === 2, 'both connections reach the target');
    expect(clientPfs.listenerCount).toBe(1);
    expect(serverPfs.listenerCount).toBe(1);

    await client.close();
    expect(await Promise.all(ends)).toEqual(['ECONNRESET', 'ECONNRESET']);
    await waitUntil(() => target.sockets.size === 0, 'the target sockets close');
    expect(target.errors).toEqual(['ECONNRESET', 'ECONNRESET']);
    await waitUntil(() => serverPfs.listenerCount === 0 && serverPfs.connectionCount === 0, 'the server side lets go');
    expect(clientPfs.listenerCount).toBe(0);
    expect(clientPfs.connectionCount).toBe(0);
    expect(local.isClosed && remote.isClosed).toBe(true);
    await expect(tcpConnect(local.localPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(tcpConnect(remote.remotePort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(() => getPortForwardingService(client)).toThrow(/closed/);
    await expect(clientPfs.streamToRemotePort('127.0.0.1', target.port)).rejects.toThrow(SshError);
  });

  it('leaves no socket or listener behind after many short connections', async () => {
    const echo = await tcp(startEchoServer);
    server.onRequest = () => true;
    const local = await clientPfs.forwardToRemotePort(0, '127.0.0.1', echo.port);
    const remote = await clientPfs.forwardFromRemotePort(0, '127.0.0.1', echo.port);
    for (let round = 0; round < 5; round++) {
      await Promise.all([
        ...Array.from({ length: 10 }, () => exchange(local.localPort, randomBytes(1000))),
        ...Array.from({ length: 10 }, () => exchange(remote.remotePort, randomBytes(1000))),
      ]);
    }
    expect(echo.accepted).toBe(100);
    await waitUntil(
      () => clientPfs.connectionCount === 0 && serverPfs.connectionCount === 0 && echo.sockets.size === 0,
      'every socket closes',
    );
    expect(client.connection!.channelCount).toBe(0);
    await local.close();
    await remote.close();
    expect(clientPfs.listenerCount + serverPfs.listenerCount).toBe(0);
  });
});
