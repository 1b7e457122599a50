/**
 * The Node clients of the sshd rows (bench/sshd.ts): ssh-streams, ssh2 with its native addon and
 * ssh2 without it. Each runs in a child process of its own (bench/sshd-child.ts), as an
 * application would: in one shared process the collector's schedule depends on what the other
 * libraries loaded and left behind, which moved our rows by a third between runs. Each client's
 * file is imported only by the child that runs it.
 */
import { connect, type Server } from 'node:net';
import type { SshdResult } from './types.js';

/** What one sshd row moves. */
export type Direction = SshdResult['direction'];
/** Bytes per write of the upload rows. */
export const CHUNK = 64 * 1024;

/** Ports of the local TCP targets forwarded to: one writes the measured size, one nothing. */
export interface Targets {
  full: number;
  empty: number;
}

/** One transfer's wall seconds and, for the Node clients, their process's CPU milliseconds. */
export interface TimedTransfer {
  seconds: number;
  cpuMs?: number;
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
/** Closes a listener, resolving once it closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The Node clients by name; `openssh` is spawned by bench/sshd.ts itself. */
export const nodeClients: Record<Exclude<SshdResult['peer'], 'openssh'>, (clientKey: string, port: number, cipher: string) => Promise<SshdClient>> = {
  'ssh-streams': async (clientKey, port, cipher) => (await import('./sshd-client-ours.js')).ourClient(clientKey, port, cipher),
  ssh2: async (clientKey, port, cipher) => {
    const { ssh2Client, installedSsh2 } = await import('./sshd-client-ssh2.js');
    return ssh2Client(installedSsh2, clientKey, port, cipher);
  },
  'ssh2-no-addon': async (clientKey, port, cipher) => {
    const [{ ssh2Client }, { ssh2WithoutAddon }] = await Promise.all([import('./sshd-client-ssh2.js'), import('./peers/ssh2.js')]);
    return ssh2Client(ssh2WithoutAddon(), clientKey, port, cipher);
  },
};
