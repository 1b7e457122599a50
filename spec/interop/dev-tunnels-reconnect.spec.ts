/**
 * Interop of session reconnection (session-reconnect@microsoft.com with session-latency) with
 * `@microsoft/dev-tunnels-ssh`: their client reconnecting to our TcpServer and our client
 * reconnecting to their server, each after its socket was destroyed in the middle of 8 MiB
 * flowing both ways through one channel; SHA-256 of what arrived compared at both ends.
 */
import { describe, expect, it } from 'vitest';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import * as dt from '@microsoft/dev-tunnels-ssh';
import { SessionConfig } from '../../lib/config.js';
import { socketToDuplex } from '../../lib/tcp/index.js';
import { ClientSession } from '../../lib/client-session.js';
import { hashStream, patternSource } from './interop-sessions.js';
import { MiB, Queue, nextEvent, password, theirBlob, theirConfig, theirKeys, theirReceive, theirSend, username } from './dev-tunnels-peers.js';
import { disconnected, reconnectServer, tap } from '../tcp/reconnect-fixtures.js';
import { generateKeyPair } from '../../lib/keys/key-pair.js';

/** Their configuration with reconnection and latency, as Dev Tunnels applications enable them. */
function theirReconnectConfig(): dt.SshSessionConfiguration {
  const config = theirConfig();
  config.protocolExtensions.push(dt.SshProtocolExtensionNames.sessionReconnect, dt.SshProtocolExtensionNames.sessionLatency);
  return config;
}

async function dial(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Their data path wrapped so the cut can be placed: received bytes counted on their side. */
function theirReceiveWithTap(channel: dt.SshChannel, threshold: number, at: () => void) {
  let seen = 0;
  let fired = false;
  const result = theirReceive(channel);
  channel.onDataReceived((data) => {
    seen += data.length;
    if (!fired && seen >= threshold) {
      fired = true;
      at();
    }
  });
  return result;
}

describe('dev-tunnels-ssh interop: session reconnection', () => {
  it('their client resumes on our server after its socket is destroyed mid-transfer (8 MiB each way)', async () => {
    const hostKey = await generateKeyPair('ecdsa-sha2-nistp384');
    const { server, port, sessions, channels } = await reconnectServer(hostKey);
    server.onSessionAuthenticating = (e) => e.username === username && e.password === password;
    const socket = await dial(port);
    const theirs = new dt.SshClientSession(theirReconnectConfig());
    theirs.onAuthenticating((e) => {
      e.authenticationPromise = theirBlob(e.publicKey!).then((blob) => (blob.equals(Buffer.from(hostKey.publicKeyBlob)) ? {} : null));
    });
    await theirs.connect(new dt.NodeStream(socket));
    expect(await theirs.authenticate({ username, password })).toBe(true);
    const ours = await sessions.take();
    const channel = await theirs.openChannel();
    const ourChannel = await channels.take();

    const toUs = patternSource(8 * MiB, 11);
    const toThem = patternSource(8 * MiB, 12);
    const theyLost = nextEvent(theirs.onDisconnected);
    const weLost = disconnected(ours);
    const atThem = theirReceiveWithTap(channel, 2 * MiB, () => socket.destroy());
    const atUs = hashStream(ourChannel.readable);
    const sending = [theirSend(channel, toUs), toThem.stream().pipeTo(ourChannel.writable)];
    await Promise.all([theyLost, weLost]);
    expect(theirs.isConnected).toBe(false);
    expect(ours.isDisconnected).toBe(true);

    await theirs.reconnect(new dt.NodeStream(await dial(port)));
    await Promise.all(sending);
    expect(await atUs).toEqual({ hash: toUs.hash, bytes: 8 * MiB });
    expect(await atThem).toEqual({ hash: toThem.hash, bytes: 8 * MiB });
    expect(ours.metrics.reconnections).toBe(1);
    expect(theirs.metrics.reconnections).toBe(1);
    expect(ours.isConnected).toBe(true);
    // Both sides measured round trips through the 12-byte latency trailer.
    expect(ours.metrics.latencyMaxMs).toBeGreaterThan(0);
    expect(theirs.metrics.latencyMaxMs).toBeGreaterThan(0);
    await theirs.close(dt.SshDisconnectReason.byApplication);
    await server.close();
  }, 30000);

  it('our client resumes on their server after its socket is destroyed mid-transfer (8 MiB each way)', async () => {
    const hostKeys = await theirKeys();
    const blobs = await Promise.all(hostKeys.map(theirBlob));
    const reconnectable: dt.SshServerSession[] = [];
    const sessions = new Queue<dt.SshServerSession>();
    const channels = new Queue<dt.SshChannel>();
    const tcp = createServer((socket) => {
      const session = new dt.SshServerSession(theirReconnectConfig(), reconnectable);
      session.credentials = { publicKeys: hostKeys };
      session.onAuthenticating((e) => {
        if (e.username === username && e.password === password) e.authenticationPromise = Promise.resolve({});
      });
      session.onChannelOpening((e) => channels.push(e.channel));
      sessions.push(session);
      session.connect(new dt.NodeStream(socket)).catch(() => session.dispose());
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const port = (tcp.address() as { port: number }).port;
    const socket = await dial(port);
    const client = new ClientSession(SessionConfig.defaultWithReconnect());
    client.onAuthenticating = (e) => blobs.some((blob) => blob.equals(Buffer.from(e.publicKey.publicKeyBlob)));
    await client.connect(socketToDuplex(socket));
    expect(await client.authenticate({ username, password })).toBe(true);
    const theirs = await sessions.take();
    const channel = await client.openChannel();
    const theirChannel = await channels.take();

    const toUs = patternSource(8 * MiB, 21);
    const toThem = patternSource(8 * MiB, 22);
    const weLost = disconnected(client);
    const theyLost = nextEvent(theirs.onDisconnected);
    const atUs = hashStream(tap(channel.readable, 2 * MiB, () => socket.destroy()));
    const atThem = theirReceive(theirChannel);
    const sending = [theirSend(theirChannel, toUs), toThem.stream().pipeTo(channel.writable)];
    await Promise.all([weLost, theyLost]);
    expect(client.isDisconnected).toBe(true);

    const reconnected = nextEvent(theirs.onReconnected);
    await client.reconnect(socketToDuplex(await dial(port)));
    await reconnected;
    await Promise.all(sending);
    expect(await atUs).toEqual({ hash: toUs.hash, bytes: 8 * MiB });
    expect(await atThem).toEqual({ hash: toThem.hash, bytes: 8 * MiB });
    expect(client.metrics.reconnections).toBe(1);
    expect(theirs.metrics.reconnections).toBe(1);
    expect(client.metrics.latencyMaxMs).toBeGreaterThan(0);
    expect(theirs.metrics.latencyMaxMs).toBeGreaterThan(0);
    await client.close();
    await new Promise((resolve) => tcp.close(resolve));
  }, 30000);
});
