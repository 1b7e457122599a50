/**
 * OpenSSH sshd rows of `npm run bench`: where users run a client. One throwaway sshd on 127.0.0.1;
 * each client downloads (`head -c N /dev/zero` read through one exec channel), uploads (N bytes
 * written into `cat >/dev/null`) and forwards (N bytes from a local TCP target through a local
 * listener → direct-tcpip → sshd → target, read by a local socket). Clients: ssh-streams (TcpClient,
 * its own socket adapter), ssh2 with its native addon, ssh2 with the addon refused, and OpenSSH's
 * `ssh` (its connect time taken off; the ceiling). Medians of `rounds`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { SessionConfig } from '../lib/config.js';
import { importKey } from '../lib/keys/index.js';
import { TcpClient } from '../lib/tcp/index.js';
import { addPortForwardingService, getPortForwardingService } from '../lib/forwarding/index.js';
import type { ClientSession } from '../lib/client-session.js';
import { freePort, makeBenchDir, startBenchSshd, type SftpBenchDir } from './sftp-fixtures.js';
import { ssh2WithoutAddon, type Ssh2Module } from './peers/ssh2.js';
import { payload } from './mailbox.js';
import type { SshdResult } from './types.js';
import { median } from './median.js';

type Direction = SshdResult['direction'];
const CHUNK = 64 * 1024;

/** Ports of the local TCP targets forwarded to: one writes the measured size, one nothing. */
interface Targets {
  full: number;
  empty: number;
}

/** One client connected to sshd: a timed transfer (seconds) per direction. */
interface SshdClient {
  transfer(direction: Direction, bytes: number, targets: Targets): Promise<number>;
  close(): Promise<void>;
}

/** Reads `bytes` from a fresh connection to 127.0.0.1:`port`; seconds from connect to the last byte. */
function readFromPort(port: number, bytes: number): Promise<number> {
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
async function startTarget(bytes: number): Promise<{ port: number; close(): Promise<void> }> {
  const chunk = payload(CHUNK);
  const server = createServer((socket: Socket) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(CHUNK, bytes - sent);
        sent += n;
        if (!socket.write(n === CHUNK ? chunk : chunk.subarray(0, n))) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.on('error', () => {});
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function ourClient(bench: SftpBenchDir, port: number, cipher: string): Promise<SshdClient> {
  const config = SessionConfig.default();
  config.encryptionAlgorithms = [cipher];
  addPortForwardingService(config);
  const client = new TcpClient(config);
  client.onSessionAuthenticating = () => true;
  const session: ClientSession = await client.openSession('127.0.0.1', port);
  if (!(await session.authenticate({ username: 'root', privateKeys: [await importKey(readFileSync(bench.clientKey, 'utf8'))] }))) {
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

async function ssh2Client(lib: Ssh2Module, bench: SftpBenchDir, port: number, cipher: string): Promise<SshdClient> {
  const client = new lib.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host: '127.0.0.1', port, username: 'root', privateKey: readFileSync(bench.clientKey), algorithms: { cipher: [cipher as ssh2.CipherAlgorithm] } });
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

/**
 * OpenSSH's `ssh`: each transfer is one run less the time of the same run moving nothing, taken
 * right before it (process start, key exchange, authentication and channel setup cancel out).
 */
async function openSshClient(bench: SftpBenchDir, port: number, cipher: string): Promise<SshdClient> {
  const options = ['-F', '/dev/null', '-p', String(port), '-i', bench.clientKey, '-c', cipher];
  for (const setting of ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'BatchMode=yes', 'IdentitiesOnly=yes', 'LogLevel=ERROR']) options.push('-o', setting);
  const ssh = `ssh ${options.join(' ')} root@127.0.0.1`;
  const run = (script: string): Promise<number> => {
    const start = performance.now();
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    return new Promise((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve((performance.now() - start) / 1000) : reject(new Error(`${script} exited with ${code}: ${stderr}`)))),
    );
  };
  const forward = async (bytes: number, target: number): Promise<number> => {
    const local = await freePort();
    const start = performance.now();
    const child = spawn('ssh', [...options, '-N', '-L', `${local}:127.0.0.1:${target}`, 'root@127.0.0.1'], { stdio: 'ignore' });
    try {
      await waitForListener(local);
      await readFromPort(local, bytes);
      return (performance.now() - start) / 1000;
    } finally {
      child.kill();
    }
  };
  const once = (direction: Direction, bytes: number, targets: Targets): Promise<number> => {
    if (direction === 'download') return run(`${ssh} 'head -c ${bytes} /dev/zero' >/dev/null`);
    if (direction === 'upload') return run(`head -c ${bytes} /dev/zero | ${ssh} 'cat >/dev/null'`);
    return forward(bytes, bytes === 0 ? targets.empty : targets.full);
  };
  return {
    async transfer(direction, bytes, targets) {
      const nothing = await once(direction, 0, targets);
      return Math.max((await once(direction, bytes, targets)) - nothing, 1e-6);
    },
    close: async () => {},
  };
}

/** Polls until something accepts on 127.0.0.1:`port` (ssh -L binds after authenticating). */
async function waitForListener(port: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Nothing listened on ${port}`);
}

/** The clients measured, by name. */
const clients: Record<SshdResult['peer'], (bench: SftpBenchDir, port: number, cipher: string) => Promise<SshdClient>> = {
  'ssh-streams': ourClient,
  ssh2: (bench, port, cipher) => ssh2Client(ssh2, bench, port, cipher),
  'ssh2-no-addon': (bench, port, cipher) => ssh2Client(ssh2WithoutAddon(), bench, port, cipher),
  openssh: openSshClient,
};

/**
 * Runs every sshd row: each cipher, each direction, each client, rounds interleaved across clients
 * so that a noisy moment hits them all alike.
 * @param options bytes per transfer, rounds, ciphers, clients (all when empty) and a progress log
 */
export async function runSshdBench(options: {
  bytes: number;
  rounds: number;
  ciphers: readonly string[];
  peers?: readonly string[];
  directions?: readonly Direction[];
  log?: (line: string) => void;
}): Promise<SshdResult[]> {
  const bench = makeBenchDir();
  const sshd = await startBenchSshd(bench, options.ciphers);
  const target = await startTarget(options.bytes);
  const empty = await startTarget(0);
  const targets = { full: target.port, empty: empty.port };
  const names = (Object.keys(clients) as SshdResult['peer'][]).filter((n) => !options.peers?.length || options.peers.includes(n));
  const results: SshdResult[] = [];
  try {
    for (const cipher of options.ciphers) {
      const connected = new Map<string, SshdClient>();
      for (const name of names) connected.set(name, await clients[name](bench, sshd.port, cipher));
      for (const direction of options.directions ?? (['download', 'upload', 'forward'] as const)) {
        const runs = new Map<string, number[]>(names.map((n) => [n, []]));
        for (let round = 1; round <= options.rounds; round++) {
          for (const name of names) {
            const seconds = await connected.get(name)!.transfer(direction, options.bytes, targets);
            const mbPerSecond = options.bytes / 1e6 / seconds;
            runs.get(name)!.push(mbPerSecond);
            options.log?.(`round ${round} sshd ${name} ${cipher} ${direction}: ${mbPerSecond.toFixed(0)} MB/s`);
          }
        }
        for (const name of names) {
          const r = runs.get(name)!;
          results.push({ scenario: 'sshd', peer: name as SshdResult['peer'], cipher, direction, bytes: options.bytes, mbPerSecond: median(r), runs: r });
        }
      }
      for (const client of connected.values()) await client.close();
    }
  } finally {
    await target.close();
    await empty.close();
    await sshd.stop();
    bench.close();
  }
  return results;
}
