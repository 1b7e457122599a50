import { describe, expect, it } from 'vitest';
import { connect as netConnect, type Socket } from 'node:net';
import { TcpClient, socketToDuplex } from '../../lib/tcp/index.js';
import { SessionConfig } from '../../lib/config.js';
import { DisconnectError, ReconnectError, ReconnectFailureReason } from '../../lib/errors.js';
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import { hashStream, patternSource } from '../interop/interop-sessions.js';
import { testHostKey } from '../helpers/pairs.js';
import { disconnected, reconnectServer, socketClient, tap } from './reconnect-fixtures.js';

const MiB = 1024 * 1024;

async function dial(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/**
 * 8 MiB each way through a channel pair; `cut` runs once the client received 2 MiB, and
 * `resume` once the client noticed the loss. Resolves with what both ends received.
 */
async function transferAcrossLoss(
  client: ClientSession,
  pair: { channel: Channel; serverChannel: Channel },
  steps: { cut: () => void; resume: () => Promise<void> },
) {
  const up = patternSource(8 * MiB, 1);
  const down = patternSource(8 * MiB, 2);
  const lost = disconnected(client);
  const sent = [up.stream().pipeTo(pair.channel.writable), down.stream().pipeTo(pair.serverChannel.writable)];
  const received = [hashStream(tap(pair.channel.readable, 2 * MiB, steps.cut)), hashStream(pair.serverChannel.readable)];
  await lost;
  expect([client.isConnected, client.isClosed, client.isDisconnected]).toEqual([false, false, true]);
  await steps.resume();
  expect(client.isConnected).toBe(true);
  await Promise.all(sent);
  const [clientGot, serverGot] = await Promise.all(received);
  expect(clientGot).toEqual({ hash: down.hash, bytes: 8 * MiB });
  expect(serverGot).toEqual({ hash: up.hash, bytes: 8 * MiB });
}

describe('session reconnection over TCP', () => {
  it('continues channels carrying 8 MiB each way across two destroyed client sockets, hashes equal on both ends', async () => {
    const hostKey = await testHostKey();
    const { server, port, sessions, channels } = await reconnectServer(hostKey);
    const { client, socket } = await socketClient(port, hostKey);
    const serverSession = await sessions.take();
    let reconnected = 0;
    serverSession.onReconnected = () => reconnected++;

    const first = { channel: await client.openChannel(), serverChannel: await channels.take() };
    let second: Socket | undefined;
    await transferAcrossLoss(client, first, {
      cut: () => socket.destroy(),
      resume: async () => {
        second = await dial(port);
        await client.reconnect(socketToDuplex(second));
      },
    });
    expect(client.metrics.reconnections).toBe(1);

    // A channel opened after the reconnect, and a second loss, resumed through TcpClient.
    const next = { channel: await client.openChannel(), serverChannel: await channels.take() };
    await transferAcrossLoss(client, next, {
      cut: () => second!.destroy(),
      resume: () => new TcpClient().reconnectSession(client, '127.0.0.1', port),
    });
    expect(client.metrics.reconnections).toBe(2);
    expect(serverSession.metrics.reconnections).toBe(2);
    expect(reconnected).toBe(2);
    expect(serverSession.sessionId).toEqual(client.sessionId);
    // Later re-keys derive from the original session id on both sides.
    await client.rekey();
    const echo = await client.openChannel();
    const echoed = await channels.take();
    void echoed.readable.pipeTo(echoed.writable);
    const writer = echo.writable.getWriter();
    await writer.write(new TextEncoder().encode('after re-key'));
    await writer.close();
    expect(new TextDecoder().decode((await echo.readable.getReader().read()).value)).toBe('after re-key');
    await client.close();
    await server.close();
  }, 60000);

  it('refuses a server with another host key (reason 102) and then succeeds against the right one', async () => {
    const hostKey = await testHostKey();
    const { server, port, channels } = await reconnectServer(hostKey);
    const impostor = await reconnectServer(await generateKeyPair('ssh-ed25519'));
    const { client, socket } = await socketClient(port, hostKey);
    const channel = await client.openChannel();
    const serverChannel = await channels.take();
    const lost = disconnected(client);
    socket.destroy();
    await lost;
    const tcp = new TcpClient();
    const error = await tcp.reconnectSession(client, '127.0.0.1', impostor.port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectError);
    expect((error as ReconnectError).reason).toBe(ReconnectFailureReason.differentServerHostKey);
    expect((error as Error).message).toMatch(/reason 102 differentServerHostKey/);
    expect(client.isDisconnected).toBe(true);
    await tcp.reconnectSession(client, '127.0.0.1', port);
    const writer = channel.writable.getWriter();
    await writer.write(new TextEncoder().encode('still here'));
    expect(new TextDecoder().decode((await serverChannel.readable.getReader().read()).value)).toBe('still here');
    await client.close();
    await Promise.all([server.close(), impostor.server.close()]);
  });

  it('fails with sessionNotFound (reason 2) on a server that does not know the session, which stays retryable', async () => {
    const hostKey = await testHostKey();
    const { server, port } = await reconnectServer(hostKey);
    const stranger = await reconnectServer(hostKey);
    const { client, socket } = await socketClient(port, hostKey);
    const lost = disconnected(client);
    socket.destroy();
    await lost;
    const tcp = new TcpClient();
    const error = await tcp.reconnectSession(client, '127.0.0.1', stranger.port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectError);
    expect((error as ReconnectError).reason).toBe(ReconnectFailureReason.sessionNotFound);
    expect((error as Error).message).toMatch(/reason 2 sessionNotFound/);
    await tcp.reconnectSession(client, '127.0.0.1', port);
    expect(client.isConnected).toBe(true);
    await client.close();
    await Promise.all([server.close(), stranger.server.close()]);
  });

  it('closes a session whose config has no reconnection when its socket is destroyed, as before', async () => {
    const hostKey = await testHostKey();
    const { server, port, sessions } = await reconnectServer(hostKey, SessionConfig.default());
    const { client, socket } = await socketClient(port, hostKey, SessionConfig.default());
    const serverSession = await sessions.take();
    socket.destroy();
    const end = await client.closed.catch((e: unknown) => e);
    expect(end).toBeInstanceOf(DisconnectError);
    expect((end as DisconnectError).reason).toBe(10);
    await serverSession.closed.catch(() => {});
    expect([client.isClosed, serverSession.isClosed]).toEqual([true, true]);
    await expect(client.reconnect(socketToDuplex(await dial(port)))).rejects.toThrow(/session is closed/);
    await server.close();
  });

  it('fails with serverDroppedMessages (reason 4) when the server evicted what the client still needs', async () => {
    const hostKey = await testHostKey();
    const serverConfig = SessionConfig.defaultWithReconnect();
    serverConfig.maxReconnectMessageCacheSize = 2;
    const { server, port, sessions, channels } = await reconnectServer(hostKey, serverConfig);
    const { client, socket } = await socketClient(port, hostKey);
    const serverSession = await sessions.take();
    await client.openChannel();
    const serverChannel = await channels.take();
    const lost = Promise.all([disconnected(client), disconnected(serverSession)]);
    socket.destroy();
    await lost;
    // Sent while disconnected: five messages into a cache of two.
    const writer = serverChannel.writable.getWriter();
    for (let i = 0; i < 5; i++) await writer.write(new Uint8Array([i]));
    const error = await new TcpClient().reconnectSession(client, '127.0.0.1', port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectError);
    expect((error as ReconnectError).reason).toBe(ReconnectFailureReason.serverDroppedMessages);
    expect(client.isDisconnected).toBe(true);
    await client.close();
    await server.close();
  });
});
