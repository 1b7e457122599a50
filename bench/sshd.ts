/**
 * OpenSSH sshd rows of `npm run bench`: where users run a client. One throwaway sshd on 127.0.0.1;
 * each client downloads (`head -c N /dev/zero` read through one exec channel), uploads (N bytes
 * written into `cat >/dev/null`) and forwards (N bytes from a local TCP target through a local
 * listener → direct-tcpip → sshd → target, read by a local socket). Clients: ssh-streams (TcpClient,
 * its own socket adapter), ssh2 with its native addon, ssh2 with the addon refused, and OpenSSH's
 * `ssh` (its connect time taken off; the ceiling). Medians of `rounds`.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { freePort, makeBenchDir, startBenchSshd, type SftpBenchDir } from './sftp-fixtures.js';
import { payload } from './mailbox.js';
import type { SshdResult } from './types.js';
import { median } from './median.js';
import { CHUNK, closeServer, readFromPort, type Direction, type Targets, type TimedTransfer, type nodeClients } from './sshd-client.js';
import { forkBenchChild, removeBundledChildren } from './child-process.js';

const MiB = 1024 * 1024;


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

/**
 * Every client's transfer is one run less the time of the same run moving nothing, taken right
 * before it: what does not depend on the bytes cancels out — for `ssh` its process start, key
 * exchange and authentication; for every client the channel's setup and the remote command's
 * start (the login shell's, with HOME pointed at the scratch directory: startBenchSshd).
 */
function lessNothing(client: MeasuredClient): MeasuredClient {
  return {
    async transfer(direction, bytes, targets) {
      const nothing = await client.transfer(direction, 0, targets);
      const full = await client.transfer(direction, bytes, targets);
      const seconds = Math.max(full.seconds - nothing.seconds, 1e-6);
      if (full.cpuMs === undefined || nothing.cpuMs === undefined) return { seconds };
      return { seconds, cpuMs: Math.max(full.cpuMs - nothing.cpuMs, 0) };
    },
    close: () => client.close(),
  };
}

/** A client as the rows see it: each transfer's seconds, and its process's CPU where it is ours to read. */
interface MeasuredClient {
  transfer(direction: Direction, bytes: number, targets: Targets): Promise<TimedTransfer>;
  close(): Promise<void>;
}

/** A Node client in a child process of its own (bench/sshd-child.ts), connected once per cipher. */
async function forkedClient(name: keyof typeof nodeClients, bench: SftpBenchDir, port: number, cipher: string): Promise<MeasuredClient> {
  const child = await forkBenchChild('sshd-child', [name, bench.clientKey, String(port), cipher]);
  return lessNothing({ transfer: (direction, bytes, targets) => child.request<TimedTransfer>({ direction, bytes, targets }), close: () => child.close() });
}

/** OpenSSH's `ssh`: one process per transfer (see `lessNothing`). */
async function openSshClient(bench: SftpBenchDir, port: number, cipher: string): Promise<MeasuredClient> {
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
  return lessNothing({ transfer: async (direction, bytes, targets) => ({ seconds: await once(direction, bytes, targets) }), close: async () => {} });
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
const clients: Record<SshdResult['peer'], (bench: SftpBenchDir, port: number, cipher: string) => Promise<MeasuredClient>> = {
  'ssh-streams': (bench, port, cipher) => forkedClient('ssh-streams', bench, port, cipher),
  ssh2: (bench, port, cipher) => forkedClient('ssh2', bench, port, cipher),
  'ssh2-no-addon': (bench, port, cipher) => forkedClient('ssh2-no-addon', bench, port, cipher),
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
      const connected = new Map<string, MeasuredClient>();
      for (const name of names) connected.set(name, await clients[name](bench, sshd.port, cipher));
      for (const direction of options.directions ?? (['download', 'upload', 'forward'] as const)) {
        const runs = new Map<string, number[]>(names.map((n) => [n, []]));
        const cpuRuns = new Map<string, number[]>(names.map((n) => [n, []]));
        for (let round = 1; round <= options.rounds; round++) {
          for (const name of names) {
            const { seconds, cpuMs } = await connected.get(name)!.transfer(direction, options.bytes, targets);
            const mbPerSecond = options.bytes / 1e6 / seconds;
            runs.get(name)!.push(mbPerSecond);
            const cpuPerMiB = cpuMs === undefined ? undefined : cpuMs / (options.bytes / MiB);
            if (cpuPerMiB !== undefined) cpuRuns.get(name)!.push(cpuPerMiB);
            options.log?.(`round ${round} sshd ${name} ${cipher} ${direction}: ${mbPerSecond.toFixed(0)} MB/s` + (cpuPerMiB === undefined ? '' : `, client ${cpuPerMiB.toFixed(2)} CPU ms/MiB`));
          }
        }
        for (const name of names) {
          const r = runs.get(name)!;
          const cpu = cpuRuns.get(name)!;
          results.push({
            scenario: 'sshd',
            peer: name as SshdResult['peer'],
            cipher,
            direction,
            bytes: options.bytes,
            mbPerSecond: median(r),
            runs: r,
            ...(cpu.length > 0 ? { clientCpuMsPerMiB: median(cpu), clientCpuRuns: cpu } : {}),
          });
        }
      }
      for (const client of connected.values()) await client.close();
    }
  } finally {
    await target.close();
    await empty.close();
    await sshd.stop();
    bench.close();
    removeBundledChildren();
  }
  return results;
}
