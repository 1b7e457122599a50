/**
 * The Node clients of the sshd rows (bench/sshd.ts): ssh-streams, ssh2 with its native addon and
 * ssh2 without it. Each runs in a child process of its own (bench/sshd-child.ts), as an
 * application would: in one shared process the collector's schedule depends on what the other
 * libraries loaded and left behind, which moved our rows by a third between runs.
 */
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import ssh2 from 'ssh2';
import { SessionConfig } from '../lib/config.js';
import { importKey } from '../lib/keys/index.js';
import { TcpClient } from '../lib/tcp/index.js';
import { addPortForwardingService, getPortForwardingService } from '../lib/forwarding/index.js';
import type { ClientSession } from '../lib/client-session.js';
import { ssh2WithoutAddon, type Ssh2Module } from './peers/ssh2.js';
import { payload } from './mailbox.js';
import type { SshdResult } from './types.js';

/** What one sshd row moves. */
export type Direction = SshdResult['direction'];
const CHUNK = 64 * 1024;

/** Ports of the local TCP targets forwarded to: one writes the measured size, one nothing. */
export interface Targets {
  full: number;
  empty: number;
}

/** One client connected to sshd: a timed transfer (seconds) per direction. */
export interface SshdClient {
  transfer(direction: Direction, bytes: number, targets: Targets): Promise<number>;
  close(): Promise<void>;
}

/** Reads `bytes` from a fresh connection to 127.0.0.1:`port`; seconds from connect to the last byte. */
export function readFromPort(port: number, bytes: number): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket = connect(port, '127.0.0.1');
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes) {
        socket.destroy();
        resolve((performance.now() - start) / 1000);
      }
    });
    socket.once('error', reject);
    socket.once('close', () =>
      received < bytes ? reject(new Error(`Forwarded connection ended after ${received} of ${bytes} bytes`)) : resolve((performance.now() - start) / 1000),
    );
  });
}

/** A local TCP target that writes `bytes` to every connection, honouring backpressure. */
/** ssh-streams: TcpClient (its own socket adapter), one exec channel or forwardToRemotePort per transfer. */
async function ourClient(clientKey: string, port: number, cipher: string): Promise<SshdClient> {
  const config = SessionConfig.default();
  config.encryptionAlgorithms = [cipher];
  addPortForwardingService(config);
  const client = new TcpClient(config);
  client.onSessionAuthenticating = () => true;
  const session: ClientSession = await client.openSession('127.0.0.1', port);
  if (!(await session.authenticate({ username: 'root', privateKeys: [await importKey(readFileSync(clientKey, 'utf8'))] }))) {
    throw new Error('sshd refused the benchmark key');
  }
  const block = payload(CHUNK);
  return {
    async transfer(direction, bytes, { full: target }) {
      const start = performance.now();
      if (direction === 'forward') {
        const forwarder = await getPortForwardingService(session).forwardToRemotePort(0, '127.0.0.1', target);
        await readFromPort(forwarder.localPort, bytes);
        await forwarder.close();
        return (performance.now() - start) / 1000;
      }
      const channel = await session.openChannel();
      if (!(await channel.exec(direction === 'download' ? `head -c ${bytes} /dev/zero` : 'cat >/dev/null'))) throw new Error('sshd refused exec');
      const reader = channel.readable.getReader();
      if (direction === 'download') {
        let received = 0;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          received += value.length;
        }
        if (received !== bytes) throw new Error(`Download ended after ${received} of ${bytes} bytes`);
      } else {
        const writer = channel.writable.getWriter();
        for (let sent = 0; sent < bytes; sent += CHUNK) {
          await writer.ready;
          void writer.write(block).catch(() => {});
        }
        await writer.close();
        while (!(await reader.read()).done);
      }
      await channel.close();
      return (performance.now() - start) / 1000;
    },
    close: () => session.close(),
  };
}

/** ssh2: exec streams, and a local listener piped to forwardOut (what `ssh -L` does). */
async function ssh2Client(lib: Ssh2Module, clientKey: string, port: number, cipher: string): Promise<SshdClient> {
  const client = new lib.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host: '127.0.0.1', port, username: 'root', privateKey: readFileSync(clientKey), algorithms: { cipher: [cipher as ssh2.CipherAlgorithm] } });
  });
  const block = Buffer.from(payload(CHUNK));
  const exec = (command: string): Promise<ssh2.ClientChannel> =>
    new Promise((resolve, reject) => client.exec(command, (error, stream) => (error ? reject(error) : resolve(stream))));
  return {
    async transfer(direction, bytes, { full: target }) {
      const start = performance.now();
      if (direction === 'forward') {
        // What `ssh -L` does, built from forwardOut: a local listener whose connections are piped to direct-tcpip.
        const listener = createServer((socket) => {
          client.forwardOut('127.0.0.1', 0, '127.0.0.1', target, (error, stream) => {
            if (error) return void socket.destroy(error);
            socket.pipe(stream).pipe(socket);
            socket.once('close', () => stream.close());
          });
        });
        await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
        await readFromPort((listener.address() as { port: number }).port, bytes);
        await closeServer(listener);
        return (performance.now() - start) / 1000;
      }
      const stream = await exec(direction === 'download' ? `head -c ${bytes} /dev/zero` : 'cat >/dev/null');
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      if (direction === 'download') {
        let received = 0;
        stream.on('data', (chunk: Buffer) => (received += chunk.length));
        await closed;
        if (received !== bytes) throw new Error(`Download ended after ${received} of ${bytes} bytes`);
      } else {
        stream.resume();
        for (let sent = 0; sent < bytes; sent += CHUNK) {
          if (!stream.write(block)) await new Promise((resolve) => stream.once('drain', resolve));
        }
        stream.end();
        await closed;
      }
      return (performance.now() - start) / 1000;
    },
    close: async () => void client.end(),
  };
}


/** Closes a listener, resolving once it closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The Node clients by name; `openssh` is spawned by bench/sshd.ts itself. */
export const nodeClients: Record<Exclude<SshdResult['peer'], 'openssh'>, (clientKey: string, port: number, cipher: string) => Promise<SshdClient>> = {
  'ssh-streams': ourClient,
  ssh2: (clientKey, port, cipher) => ssh2Client(ssh2, clientKey, port, cipher),
  'ssh2-no-addon': (clientKey, port, cipher) => ssh2Client(ssh2WithoutAddon(), clientKey, port, cipher),
};
