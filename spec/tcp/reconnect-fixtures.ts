/**
 * Shared pieces of the reconnect specs: a TcpServer with reconnection on that hands out its
 * sessions' first channels, and a client on a socket the test can destroy.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { TcpServer, socketToDuplex } from '../../lib/tcp/index.js';
import { SessionConfig } from '../../lib/config.js';
import { ClientSession } from '../../lib/client-session.js';
import type { ServerSession } from '../../lib/server-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';

import { Queue } from '../helpers/queue.js';

/** Our TcpServer on 127.0.0.1 accepting admin/secret, queueing sessions and channels. */
export async function reconnectServer(hostKey: KeyPair, config = SessionConfig.defaultWithReconnect()) {
  const server = new TcpServer(config);
  server.credentials = { hostKeys: [hostKey] };
  server.onSessionAuthenticating = (e) => e.username === 'admin' && e.password === 'secret';
  const sessions = new Queue<ServerSession>();
  const channels = new Queue<Channel>();
  server.onSessionOpened = (session) => {
    sessions.push(session);
    void (async () => {
      for await (const channel of session.channels) channels.push(channel);
    })();
  };
  await server.listen(0, '127.0.0.1');
  return { server, port: server.port!, sessions, channels };
}

/** Our client over a socket the test holds, authenticated as admin. */
export async function socketClient(port: number, hostKey: KeyPair, config = SessionConfig.defaultWithReconnect()): Promise<{ client: ClientSession; socket: Socket }> {
  const socket = netConnect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = new ClientSession(config);
  client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
  await client.connect(socketToDuplex(socket));
  if (!(await client.authenticate({ username: 'admin', password: 'secret' }))) throw new Error('Authentication failed');
  return { client, socket };
}

/** Resolves once `session` reports a lost connection. */
export function disconnected(session: ClientSession | ServerSession): Promise<void> {
  if (session.isDisconnected) return Promise.resolve();
  return new Promise((resolve) => {
    const previous = session.onDisconnected;
    session.onDisconnected = (error) => {
      previous?.(error);
      resolve();
    };
  });
}

/** Passes a stream through, calling `at` once when `threshold` bytes went by. */
export function tap(readable: ReadableStream<Uint8Array>, threshold: number, at: () => void): ReadableStream<Uint8Array> {
  let seen = 0;
  let fired = false;
  return readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.length;
        if (!fired && seen >= threshold) {
          fired = true;
          at();
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
