/**
 * Port forwarding interop with `@microsoft/dev-tunnels-ssh-tcp` (RFC 4254 §7) over 127.0.0.1:
 * their client's `streamToRemotePort`, `forwardToRemotePort` and `forwardFromRemotePort` through
 * our TcpServer, and ours through their server session, each ending at a real echo server and
 * checked by SHA-256; port 0 answered with the bound port, refusal when the listening side does
 * not authorize, and `forwarded-tcpip` channels nobody asked for refused by both. Their streams
 * never half-close (`end()` sends CHANNEL_CLOSE, EOF is not surfaced), so transfers read the echo
 * back in full before closing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import * as dt from '@microsoft/dev-tunnels-ssh';
import * as dtTcp from '@microsoft/dev-tunnels-ssh-tcp';
import { ChannelOpenError, ChannelOpenFailureReason, SshError } from '../../lib/errors.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';
import { TcpServer } from '../../lib/tcp/index.js';
import type { ServerSession } from '../../lib/server-session.js';
import type { ClientSession } from '../../lib/client-session.js';
import {
  encodeForwardedTcpip, ForwardingType, getPortForwardingService, PortForwardRequestEvent, type PortForwardingService,
} from '../../lib/forwarding/index.js';
import { forwardingConfig, sha256, startEchoServer, waitUntil, type TestServer } from '../forwarding/tcp-fixtures.js';
import {
  MiB, Queue, connectClientTo, ourKeys, password, startTheirServer, theirBlob, theirKeys, username, type TheirServer,
} from './dev-tunnels-peers.js';
import {
  channelRoundTrip, echoRoundTrip, expectTcpEcho, freePort, refusesConnections, theirForwardingConfig,
} from './dev-tunnels-forwarding-fixtures.js';

describe('dev-tunnels-ssh-tcp interop: their client forwards ports through our server', () => {
  let server: TcpServer;
  let hostKeys: KeyPair[];
  let echo: TestServer;
  /** Whether our server authorizes `tcpip-forward` (checked when each request arrives). */
  let authorize = true;
  /** Whether our server rejects every forwarding channel their client opens. */
  let rejectChannels = false;
  const sessions = new Queue<ServerSession>();
  const forwardRequests: PortForwardRequestEvent[] = [];

  beforeAll(async () => {
    [hostKeys, echo] = await Promise.all([ourKeys(), startEchoServer()]);
    server = new TcpServer(forwardingConfig());
    server.credentials = { hostKeys };
    server.onSessionAuthenticating = (e) => e.username === username && e.authenticationType === 'password' && e.password === password;
    server.onSessionError = () => {};
    server.onSessionOpened = (session) => {
      session.onRequest = (e) => {
        if (!(e instanceof PortForwardRequestEvent)) return false;
        forwardRequests.push(e);
        return authorize;
      };
      session.onChannelOpening = (e) => {
        if (rejectChannels) e.reject(ChannelOpenFailureReason.administrativelyProhibited, 'Forwarding is off for this test');
      };
      sessions.push(session);
    };
    await server.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await server?.close();
    await echo?.close();
  });

  /** Their SshClient logged in to our server, with their forwarding service and ours active. */
  async function theirClient(): Promise<{ client: dtTcp.SshClient; pfs: dtTcp.PortForwardingService; ours: PortForwardingService; ourSession: ServerSession }> {
    const client = new dtTcp.SshClient(theirForwardingConfig());
    const session = await client.openSession('127.0.0.1', server.port!);
    session.onAuthenticating((e) => {
      if (e.authenticationType !== dt.SshAuthenticationType.serverPublicKey) return;
      e.authenticationPromise = theirBlob(e.publicKey!).then((blob) =>
        hostKeys.some((k) => Buffer.from(k.publicKeyBlob).equals(blob)) ? {} : null);
    });
    expect(await session.authenticate({ username, password })).toBe(true);
    const ourSession = await sessions.take();
    await ourSession.authenticated;
    return { client, pfs: session.activateService(dtTcp.PortForwardingService), ours: getPortForwardingService(ourSession), ourSession };
  }


  it('streams a MiB through their streamToRemotePort to an echo server our server connects to', async () => {
    const { client, pfs, ours } = await theirClient();
    try {
      const data = randomBytes(MiB);
      const stream = await pfs.streamToRemotePort('127.0.0.1', echo.port);
      expect(ours.connectionCount).toBe(1);
      const echoed = await echoRoundTrip(stream, data);
      expect(echoed.length).toBe(MiB);
      expect(sha256(echoed)).toBe(sha256(data));
      stream.end();
      await waitUntil(() => ours.connectionCount === 0, 'our server closed the echo connection after their channel close');
    } finally {
      client.dispose();
    }
  });

  it('refuses their streamToRemotePort with connectFailed when nothing listens on the target port', async () => {
    const { client, pfs } = await theirClient();
    const closedPort = await freePort();
    try {
      const error = await pfs.streamToRemotePort('127.0.0.1', closedPort).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(dt.SshChannelError);
      expect((error as dt.SshChannelError).reason).toBe(dt.SshChannelOpenFailureReason.connectFailed);
    } finally {
      client.dispose();
    }
  });

  it('forwards a MiB from their forwardToRemotePort on local port 0 to the echo server', async () => {
    const { client, pfs, ours } = await theirClient();
    try {
      const forwarder = await pfs.forwardToRemotePort('127.0.0.1', 0, '127.0.0.1', echo.port);
      expect(forwarder.localPort).toBeGreaterThan(0);
      await expectTcpEcho(forwarder.localPort);
      await waitUntil(() => ours.connectionCount === 0, 'our server closed the echo connection after the client socket closed');
      forwarder.dispose();
    } finally {
      client.dispose();
    }
  });

  it('binds their forwardFromRemotePort of port 0, reports the port, carries a MiB and cancels', async () => {
    const { client, pfs, ours } = await theirClient();
    try {
      const forwarder = await pfs.forwardFromRemotePort('127.0.0.1', 0, '127.0.0.1', echo.port);
      expect(forwarder).not.toBeNull();
      const port = forwarder!.remotePort;
      expect(port).toBeGreaterThan(0);
      expect(forwardRequests.at(-1)).toMatchObject({ addressToBind: '127.0.0.1', portToBind: 0 });
      expect(ours.listenerCount).toBe(1);
      await expectTcpEcho(port);
      forwarder!.dispose();
      await waitUntil(() => ours.listenerCount === 0, 'our server stopped listening after their cancel-tcpip-forward');
      expect(await refusesConnections(port)).toBe(true);
    } finally {
      client.dispose();
    }
  });

  it('binds their forwardFromRemotePort of a fixed port and carries a MiB', async () => {
    const { client, pfs } = await theirClient();
    const port = await freePort();
    try {
      const forwarder = await pfs.forwardFromRemotePort('127.0.0.1', port, '127.0.0.1', echo.port);
      expect(forwarder?.remotePort).toBe(port);
      await expectTcpEcho(port);
    } finally {
      client.dispose();
    }
  });

  it('refuses their forwardFromRemotePort when our server does not authorize it', async () => {
    const { client, pfs, ours } = await theirClient();
    authorize = false;
    try {
      expect(await pfs.forwardFromRemotePort('127.0.0.1', 0, '127.0.0.1', echo.port)).toBeNull();
      expect(forwardRequests.at(-1)).toMatchObject({ addressToBind: '127.0.0.1', portToBind: 0 });
      expect(ours.listenerCount).toBe(0);
    } finally {
      authorize = true;
      client.dispose();
    }
  });

  it('has their streamToRemotePort refused with administrativelyProhibited when our server rejects the channel', async () => {
    const { client, pfs } = await theirClient();
    const accepted = echo.accepted;
    rejectChannels = true;
    try {
      const error = await pfs.streamToRemotePort('127.0.0.1', echo.port).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(dt.SshChannelError);
      expect((error as dt.SshChannelError).reason).toBe(dt.SshChannelOpenFailureReason.administrativelyProhibited);
      expect(echo.accepted).toBe(accepted);
    } finally {
      rejectChannels = false;
      client.dispose();
    }
  });

  it('hands connections to our listener to their streamFromRemotePort as streams, a MiB echoed by them', async () => {
    const { client, pfs } = await theirClient();
    try {
      const streamer = await pfs.streamFromRemotePort('127.0.0.1', 0);
      expect(streamer?.remotePort).toBeGreaterThan(0);
      streamer!.onStreamOpened((stream) => stream.pipe(stream));
      await expectTcpEcho(streamer!.remotePort);
    } finally {
      client.dispose();
    }
  });

  it('has their client refuse a forwarded-tcpip channel for a port it never asked for', async () => {
    const { client, ourSession } = await theirClient();
    try {
      const data = encodeForwardedTcpip({ connectedAddress: '127.0.0.1', connectedPort: echo.port, originatorAddress: '127.0.0.1', originatorPort: 40000 });
      const error = await ourSession.connection!.openChannel(ForwardingType.forwardedTcpip, { data }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ChannelOpenError);
      expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.connectFailed);
    } finally {
      client.dispose();
    }
  });
});
describe('dev-tunnels-ssh-tcp interop: our client forwards ports through their server', () => {
  let server: TheirServer;
  let hostBlobs: Buffer[];
  let echo: TestServer;
  /** Whether their server authorizes `tcpip-forward` (checked when each request arrives). */
  let authorize = true;

  beforeAll(async () => {
    const hostKeys = await theirKeys();
    hostBlobs = await Promise.all(hostKeys.map(theirBlob));
    [server, echo] = await Promise.all([startTheirServer(hostKeys, [], theirForwardingConfig()), startEchoServer()]);
  });
  afterAll(async () => {
    await server?.close();
    await echo?.close();
  });

  /** Our client logged in to their server, with our forwarding service and theirs active. */
  async function ourClient(): Promise<{ client: ClientSession; pfs: PortForwardingService; theirs: dtTcp.PortForwardingService; session: dt.SshServerSession }> {
    const client = await connectClientTo(server.port, hostBlobs, forwardingConfig());
    const { session } = await server.sessions.take();
    // After the shared handler, which refuses everything but its own global request.
    session.onRequest((e) => {
      if (e.requestType === ForwardingType.tcpipForward || e.requestType === ForwardingType.cancelTcpipForward) e.isAuthorized = authorize;
    });
    expect(await client.authenticate({ username, password })).toBe(true);
    return { client, pfs: getPortForwardingService(client), theirs: session.activateService(dtTcp.PortForwardingService), session };
  }

  it('streams a MiB through our streamToRemotePort to an echo server their server connects to', async () => {
    const { client, pfs } = await ourClient();
    try {
      const data = randomBytes(MiB);
      const channel = await pfs.streamToRemotePort('127.0.0.1', echo.port);
      const echoed = await channelRoundTrip(channel, data);
      expect(echoed.length).toBe(MiB);
      expect(sha256(echoed)).toBe(sha256(data));
      await channel.close();
      await waitUntil(() => echo.sockets.size === 0, 'their server closed the echo connection after our channel close');
    } finally {
      await client.close();
    }
  });

  it('is refused by their server with connectFailed when nothing listens on the target port', async () => {
    const { client, pfs } = await ourClient();
    const closedPort = await freePort();
    try {
      const error = await pfs.streamToRemotePort('127.0.0.1', closedPort).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ChannelOpenError);
      expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.connectFailed);
    } finally {
      await client.close();
    }
  });

  it('forwards a MiB from our forwardToRemotePort on local port 0 to the echo server', async () => {
    const { client, pfs } = await ourClient();
    try {
      const forwarder = await pfs.forwardToRemotePort(0, '127.0.0.1', echo.port);
      expect(forwarder.localPort).toBeGreaterThan(0);
      await expectTcpEcho(forwarder.localPort);
      // Their stream ignores our EOF (reference notes §10), so the connection lasts until the session ends.
      expect(pfs.connectionCount).toBe(1);
      await forwarder.close();
    } finally {
      await client.close();
    }
    await waitUntil(() => echo.sockets.size === 0, 'their server closed the echo connection with the session');
  });

  it('has their server bind our forwardFromRemotePort of port 0, report the port, carry a MiB and cancel', async () => {
    const { client, pfs, theirs } = await ourClient();
    try {
      const forwarder = await pfs.forwardFromRemotePort(0, '127.0.0.1', echo.port);
      const port = forwarder.remotePort;
      expect(port).toBeGreaterThan(0);
      await waitUntil(() => theirs.remoteForwardedPorts.size === 1, 'their server listed the forwarded port');
      await expectTcpEcho(port);
      await forwarder.close();
      await waitUntil(() => theirs.remoteForwardedPorts.size === 0, 'their server dropped the forwarded port');
      expect(await refusesConnections(port)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('has their server bind our forwardFromRemotePort of a fixed port and carry a MiB', async () => {
    const { client, pfs } = await ourClient();
    const port = await freePort();
    try {
      const forwarder = await pfs.forwardFromRemotePort(port, '127.0.0.1', echo.port);
      expect(forwarder.remotePort).toBe(port);
      await expectTcpEcho(port);
    } finally {
      await client.close();
    }
  });

  it('is refused by their server when it does not authorize our forwardFromRemotePort', async () => {
    const { client, pfs, theirs } = await ourClient();
    authorize = false;
    try {
      await expect(pfs.forwardFromRemotePort(0, '127.0.0.1', echo.port)).rejects.toThrow(SshError);
      expect(theirs.remoteForwardedPorts.size).toBe(0);
      expect(pfs.remoteForwarders).toHaveLength(0);
    } finally {
      authorize = true;
      await client.close();
    }
  });

  it('is refused with administrativelyProhibited when their server disables non-forwarded connections', async () => {
    const { client, pfs, theirs } = await ourClient();
    theirs.acceptRemoteConnectionsForNonForwardedPorts = false;
    try {
      const error = await pfs.streamToRemotePort('127.0.0.1', echo.port).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ChannelOpenError);
      expect((error as ChannelOpenError).reason).toBe(ChannelOpenFailureReason.administrativelyProhibited);
    } finally {
      await client.close();
    }
  });

  it('connects their connectToForwardedPort stream to our local target, a MiB echoed', async () => {
    const { client, pfs, theirs } = await ourClient();
    try {
      const forwarder = await pfs.forwardFromRemotePort(0, '127.0.0.1', echo.port);
      const stream = await theirs.connectToForwardedPort(forwarder.remotePort);
      const data = randomBytes(MiB);
      const echoed = await echoRoundTrip(stream, data);
      expect(sha256(echoed)).toBe(sha256(data));
      stream.end();
      await waitUntil(() => pfs.connectionCount === 0, 'our client closed the echo connection after their channel close');
    } finally {
      await client.close();
    }
  });

  it('refuses a forwarded-tcpip channel their server opens for a port we never asked for', async () => {
    const { client, session } = await ourClient();
    try {
      const open = new dtTcp.PortForwardChannelOpenMessage();
      open.channelType = ForwardingType.forwardedTcpip;
      open.host = '127.0.0.1';
      open.port = echo.port;
      open.originatorIPAddress = '127.0.0.1';
      open.originatorPort = 40000;
      const accepted = echo.accepted;
      const error = await session.openChannel(open).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(dt.SshChannelError);
      expect((error as dt.SshChannelError).reason).toBe(dt.SshChannelOpenFailureReason.connectFailed);
      expect(echo.accepted).toBe(accepted);
    } finally {
      await client.close();
    }
  });
});
