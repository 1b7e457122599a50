/**
 * Soak (c): one session with reconnection on (`SessionConfig.defaultWithReconnect()` on our client)
 * moving data both ways through a channel while its TCP socket is destroyed `kills` times, each
 * time after data flowed again on the new connection; the client reconnects on a new socket after
 * each. At the end both writers send EOF and SHA-256 and byte counts of what each end received
 * must equal what the other sent: no byte lost or duplicated. The server is ssh-streams' TcpServer
 * or `@microsoft/dev-tunnels-ssh`'s SshServerSession.
 */
import { createHash } from 'node:crypto';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import * as dt from '@microsoft/dev-tunnels-ssh';
import { ClientSession } from '../../lib/client-session.js';
import { SessionConfig } from '../../lib/config.js';
import { socketToDuplex } from '../../lib/tcp/index.js';
import type { Channel } from '../../lib/mux/channel.js';
import { startOurSoakServer, soakCredentials } from './servers.js';
import { SoakWriter, hashUntilEnd, soakChunk } from './client.js';

/** Which server the reconnect soak runs against. */
export type ReconnectPeer = 'ssh-streams' | 'dev-tunnels-ssh';

/** Figures of soak (c). */
export interface ReconnectSoakResult {
  server: ReconnectPeer;
  kills: number;
  reconnections: number;
  seconds: number;
  clientToServer: { sentBytes: number; receivedBytes: number; hashesEqual: boolean };
  serverToClient: { sentBytes: number; receivedBytes: number; hashesEqual: boolean };
  errors: string[];
}

const CHUNK = 16 * 1024;

/** The server end of the soak channel: writes until stopped, hashes what arrives. */
interface ServerEnd {
  stop(): void;
  sent(): Promise<{ hash: string; bytes: number }>;
  received: Promise<{ hash: string; bytes: number }>;
  close(): Promise<void>;
}

async function dial(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setNoDelay(true);
  return socket;
}

/** Our TcpServer with reconnection; its first channel becomes the server end. */
async function ourTakeoverServer(): Promise<{ port: number; hostKeyBlob: Uint8Array; end: Promise<ServerEnd>; close(): Promise<void> }> {
  let resolveEnd!: (end: ServerEnd) => void;
  const end = new Promise<ServerEnd>((resolve) => (resolveEnd = resolve));
  const server = await startOurSoakServer({ config: SessionConfig.defaultWithReconnect(), onChannel: (channel) => resolveEnd(ourEnd(channel)) });
  return { port: server.port, hostKeyBlob: server.hostKeyBlob, end, close: () => server.close() };
}

function ourEnd(channel: Channel): ServerEnd {
  const writer = new SoakWriter(channel.writable, 2, CHUNK);
  return {
    stop: () => writer.stop(),
    sent: async () => {
      await writer.done;
      return { hash: writer.digest(), bytes: writer.bytes };
    },
    received: hashUntilEnd(channel.readable),
    close: () => channel.close(),
  };
}

/** Their server: an SshServerSession per socket with reconnection on, sharing one reconnectable list. */
async function theirServer(): Promise<{ port: number; hostKeyBlob: Uint8Array; end: Promise<ServerEnd>; close(): Promise<void> }> {
  const config = new dt.SshSessionConfiguration(true);
  config.protocolExtensions.push(dt.SshProtocolExtensionNames.sessionReconnect, dt.SshProtocolExtensionNames.sessionLatency);
  const hostKey = await dt.SshAlgorithms.publicKey.ecdsaSha2Nistp256!.generateKeyPair();
  const hostKeyBlob = new Uint8Array((await hostKey.getPublicKeyBytes())!);
  const reconnectable: dt.SshServerSession[] = [];
  const sessions: dt.SshServerSession[] = [];
  let resolveEnd!: (end: ServerEnd) => void;
  const end = new Promise<ServerEnd>((resolve) => (resolveEnd = resolve));
  const tcp = createServer((socket) => {
    socket.setNoDelay(true);
    const session = new dt.SshServerSession(config, reconnectable);
    sessions.push(session);
    session.credentials = { publicKeys: [hostKey] };
    session.onAuthenticating((e) => {
      if (e.username === soakCredentials.username && e.password === soakCredentials.password) e.authenticationPromise = Promise.resolve({});
    });
    session.onChannelOpening((e) => resolveEnd(theirEnd(e.channel)));
    session.connect(new dt.NodeStream(socket)).catch(() => {});
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  return {
    port: (tcp.address() as { port: number }).port,
    hostKeyBlob,
    end,
    async close() {
      for (const session of sessions) await session.close(dt.SshDisconnectReason.byApplication).catch(() => {});
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}

function theirEnd(channel: dt.SshChannel): ServerEnd {
  const receivedHash = createHash('sha256');
  let receivedBytes = 0;
  const received = new Promise<{ hash: string; bytes: number }>((resolve) => {
    channel.onDataReceived((data) => {
      receivedHash.update(data);
      receivedBytes += data.length;
      channel.adjustWindow(data.length);
    });
    channel.onEof(() => resolve({ hash: receivedHash.digest('hex'), bytes: receivedBytes }));
  });
  let stopped = false;
  const sentHash = createHash('sha256');
  let sentBytes = 0;
  const sending = (async () => {
    // Their channels take data through `send`, which waits for window; zero bytes send EOF.
    await new Promise((resolve) => setImmediate(resolve));
    for (let index = 0; !stopped; index++) {
      const chunk = soakChunk(2, index, CHUNK);
      sentHash.update(chunk);
      sentBytes += chunk.length;
      await channel.send(Buffer.from(chunk));
      if (index % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
    await channel.send(Buffer.alloc(0));
  })();
  return {
    stop: () => (stopped = true),
    sent: async () => {
      await sending;
      return { hash: sentHash.digest('hex'), bytes: sentBytes };
    },
    received,
    close: () => channel.close(),
  };
}

/**
 * Runs soak (c).
 * @param peer the server
 * @param kills sockets destroyed (each followed by a reconnect)
 * @param bytesBetweenKills bytes the client must receive on a new connection before the next kill
 */
export async function runReconnectSoak(peer: ReconnectPeer, kills: number, bytesBetweenKills = 256 * 1024): Promise<ReconnectSoakResult> {
  const server = peer === 'ssh-streams' ? await ourTakeoverServer() : await theirServer();
  const errors: string[] = [];
  const started = performance.now();
  const client = new ClientSession(SessionConfig.defaultWithReconnect());
  client.onAuthenticating = (e) => Buffer.from(e.publicKey.publicKeyBlob).equals(server.hostKeyBlob);
  let socket = await dial(server.port);
  try {
    await client.connect(socketToDuplex(socket));
    if (!(await client.authenticate(soakCredentials))) throw new Error(`${peer} refused the soak credentials`);
    const channel = await client.openChannel();
    const serverEnd = await server.end;
    const writer = new SoakWriter(channel.writable, 1, CHUNK);
    let receivedSinceConnect = 0;
    let progress: (() => void) | undefined;
    const received = hashUntilEnd(
      channel.readable.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            receivedSinceConnect += chunk.length;
            if (receivedSinceConnect >= bytesBetweenKills) progress?.();
            controller.enqueue(chunk);
          },
        }),
      ),
    );
    received.catch(() => {});
    serverEnd.received.catch(() => {});
    let reconnections = 0;
    for (let kill = 0; kill < kills; kill++) {
      if (receivedSinceConnect < bytesBetweenKills) await new Promise<void>((resolve) => (progress = resolve));
      progress = undefined;
      const lost = new Promise<void>((resolve) => (client.onDisconnected = () => resolve()));
      socket.destroy();
      await lost;
      socket = await dial(server.port);
      receivedSinceConnect = 0;
      try {
        await client.reconnect(socketToDuplex(socket));
      } catch (error) {
        errors.push(`reconnect ${kill + 1}: ${error instanceof Error ? error.message : String(error)}`);
        break;
      }
      reconnections++;
    }
    if (errors.length > 0) {
      return {
        server: peer,
        kills,
        reconnections,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        clientToServer: { sentBytes: writer.bytes, receivedBytes: 0, hashesEqual: false },
        serverToClient: { sentBytes: 0, receivedBytes: 0, hashesEqual: false },
        errors,
      };
    }
    writer.stop();
    serverEnd.stop();
    await writer.done;
    const [atClient, atServer, serverSent] = await Promise.all([received, serverEnd.received, serverEnd.sent()]);
    const clientSentHash = writer.digest();
    await client.close();
    return {
      server: peer,
      kills,
      reconnections,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      clientToServer: { sentBytes: writer.bytes, receivedBytes: atServer.bytes, hashesEqual: atServer.hash === clientSentHash },
      serverToClient: { sentBytes: serverSent.bytes, receivedBytes: atClient.bytes, hashesEqual: atClient.hash === serverSent.hash },
      errors,
    };
  } finally {
    await client.close().catch(() => {});
    socket.destroy();
    await server.close();
  }
}
