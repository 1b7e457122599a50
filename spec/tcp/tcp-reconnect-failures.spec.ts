import { describe, expect, it } from 'vitest';
import { createServer, type Socket } from 'node:net';
import { TcpClient, socketToDuplex } from '../../lib/tcp/index.js';
import { SessionConfig } from '../../lib/config.js';
import { ReconnectError, ReconnectFailureReason, SshError } from '../../lib/errors.js';
import { Transport } from '../../lib/transport/transport.js';
import { RECONNECT_REQUEST, decodeReconnectRequest, encodeReconnectResponse, globalRequestType } from '../../lib/transport/reconnect/messages.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { ServerSession } from '../../lib/server-session.js';
import { testHostKey } from '../helpers/pairs.js';
import { disconnected, reconnectServer, socketClient, tap } from './reconnect-fixtures.js';

/**
 * A server made of a bare Transport with `hostKey`: it runs the key exchange, then hands every
 * reconnect request to `answer` (which may reply, or not).
 */
async function rawReconnectServer(hostKey: KeyPair, answer: (transport: Transport, socket: Socket, payload: Uint8Array) => void) {
  const requests: Uint8Array[] = [];
  const server = createServer((socket) => {
    const transport = new Transport({ isServer: true, config: SessionConfig.defaultWithReconnect(), hostKeys: [hostKey] });
    transport.onMessage = (payload) => {
      if (globalRequestType(payload) !== RECONNECT_REQUEST) return false;
      requests.push(payload);
      answer(transport, socket, payload);
      return true;
    };
    transport.connect(socketToDuplex(socket)).catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A client and server session whose link was just lost, with a channel pair opened before. */
async function lostSession(hostKey: KeyPair, clientConfig = SessionConfig.defaultWithReconnect()) {
  const fixture = await reconnectServer(hostKey);
  const { client, socket } = await socketClient(fixture.port, hostKey, clientConfig);
  const serverSession = await fixture.sessions.take();
  const channel = await client.openChannel();
  const serverChannel = await fixture.channels.take();
  const lost = Promise.all([disconnected(client), disconnected(serverSession)]);
  socket.destroy();
  await lost;
  return { ...fixture, client, serverSession, channel, serverChannel };
}

/** Both ends of the session are disconnected, neither closed. */
function expectBothDisconnected(client: ClientSession, serverSession: ServerSession): void {
  expect([client.isDisconnected, client.isClosed, serverSession.isDisconnected, serverSession.isClosed]).toEqual([true, false, true, false]);
}

/** Writes `text` on the client's channel and reads it on the server's. */
async function expectChannelWorks(pair: { channel: { writable: WritableStream<Uint8Array> }; serverChannel: { readable: ReadableStream<Uint8Array> } }, text: string) {
  const writer = pair.channel.writable.getWriter();
  await writer.write(new TextEncoder().encode(text));
  writer.releaseLock();
  const reader = pair.serverChannel.readable.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe(text);
  reader.releaseLock();
}

describe('session reconnection failures', () => {
  it('fails with clientDroppedMessages (reason 104) when the client evicted what the server still needs', async () => {
    const hostKey = await testHostKey();
    const clientConfig = SessionConfig.defaultWithReconnect();
    clientConfig.maxReconnectMessageCacheSize = 2;
    const { server, port, client, serverSession, channel } = await lostSession(hostKey, clientConfig);
    // Sent while disconnected: five messages into a cache of two.
    const writer = channel.writable.getWriter();
    for (let i = 0; i < 5; i++) await writer.write(new Uint8Array([i]));
    const error = await new TcpClient().reconnectSession(client, '127.0.0.1', port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectError);
    expect((error as ReconnectError).reason).toBe(ReconnectFailureReason.clientDroppedMessages);
    expect((error as Error).message).toMatch(/reason 104 clientDroppedMessages/);
    // The server had resumed on the new connection before the client found its cache short; the
    // client abandons that connection, which ends the server's session, and ends its own: what the
    // server lacks is gone, so no later reconnect could succeed.
    expect(serverSession.metrics.reconnections).toBe(1);
    await expect(serverSession.closed).resolves.toMatchObject({ reason: 11, description: 'Reconnect failed' });
    await expect(client.closed).rejects.toMatchObject({ reason: 2, message: expect.stringMatching(/no longer cached/) });
    expect(client.isDisconnected).toBe(false);
    const retry = await new TcpClient().reconnectSession(client, '127.0.0.1', port).catch((e: unknown) => e);
    expect((retry as Error).message).toMatch(/session is closed/);
    await server.close();
  });

  it('fails with invalidServerReconnectToken (reason 103) against a server that reflects the client token, then resumes on the real one', async () => {
    const hostKey = await testHostKey();
    const { server, port, client, serverSession, channel, serverChannel } = await lostSession(hostKey);
    const reflecting = await rawReconnectServer(hostKey, (transport, _socket, payload) => {
      const request = decodeReconnectRequest(payload);
      void transport.send(encodeReconnectResponse({ serverReconnectToken: request.clientReconnectToken, lastReceivedSequence: 0 }));
    });
    const tcp = new TcpClient();
    const error = await tcp.reconnectSession(client, '127.0.0.1', reflecting.port).catch((e: unknown) => e);
    expect(reflecting.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(ReconnectError);
    expect((error as ReconnectError).reason).toBe(ReconnectFailureReason.invalidServerReconnectToken);
    expect((error as Error).message).toMatch(/reason 103 invalidServerReconnectToken/);
    expectBothDisconnected(client, serverSession);
    await tcp.reconnectSession(client, '127.0.0.1', port);
    await expectChannelWorks({ channel, serverChannel }, 'after 103');
    await client.close();
    await Promise.all([server.close(), reflecting.close()]);
  });

  it('leaves both sessions disconnected when the new stream dies during the key exchange, and a later reconnect succeeds', async () => {
    const hostKey = await testHostKey();
    const { server, port, client, serverSession, channel, serverChannel } = await lostSession(hostKey);
    const { connect } = await import('node:net');
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const duplex = socketToDuplex(socket);
    // The identification line and the start of the server's KEXINIT, then the link is gone.
    duplex.readable = tap(duplex.readable, 64, () => socket.destroy());
    const error = await client.reconnect(duplex).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect(error).not.toBeInstanceOf(ReconnectError);
    expect(client.metrics.reconnections).toBe(0);
    expectBothDisconnected(client, serverSession);
    await new TcpClient().reconnectSession(client, '127.0.0.1', port);
    await expectChannelWorks({ channel, serverChannel }, 'after an interrupted reconnect');
    expect([client.metrics.reconnections, serverSession.metrics.reconnections]).toEqual([1, 1]);
    await client.close();
    await server.close();
  });

  it('rejects (does not hang) when the new stream dies while the reconnect request waits for its reply', async () => {
    const hostKey = await testHostKey();
    const { server, port, client, serverSession, channel, serverChannel } = await lostSession(hostKey);
    const silent = await rawReconnectServer(hostKey, (_transport, socket) => socket.destroy());
    const error = await new TcpClient().reconnectSession(client, '127.0.0.1', silent.port).catch((e: unknown) => e);
    expect(silent.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(SshError);
    expect((error as Error).message).toMatch(/reason 10/);
    expectBothDisconnected(client, serverSession);
    await new TcpClient().reconnectSession(client, '127.0.0.1', port);
    await expectChannelWorks({ channel, serverChannel }, 'after a silent server');
    await client.close();
    await Promise.all([server.close(), silent.close()]);
  });
});
