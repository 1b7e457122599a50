/**
 * SFTP rows of `npm run bench`: a 256 MiB file downloaded and uploaded over 127.0.0.1 by our
 * SftpClient, ssh2's fastGet/fastPut and OpenSSH's own `sftp` (timed from its target file's creation), all
 * against one sshd running OpenSSH's sftp-server; then OpenSSH's `sftp` against our serveSftp.
 * Every client reads from or writes to a local file. Medians of `rounds`; peak RSS of this process
 * (which holds our client, ssh2's client or our server) during the transfers.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import ssh2 from 'ssh2';
import { SessionConfig } from '../lib/config.js';
import { importKey } from '../lib/keys/index.js';
import { TcpClient } from '../lib/tcp/index.js';
import { SftpClient } from '../lib/sftp/index.js';
import { makeBenchDir, SFTP_BENCH_CIPHER, startBenchSshd, startOurSftpServer, timeSftpBatch, type SftpBenchDir } from './sftp-fixtures.js';
import type { SftpResult } from './types.js';
import { median } from './median.js';

const MiB = 1024 * 1024;

/** Writes a file of `bytes` pseudo-random bytes. */
async function makeFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  const block = new Uint8Array(MiB);
  for (let i = 0; i < MiB; i += 64) createHash('sha512').update(String(i)).digest().copy(block, i);
  for (let at = 0; at < bytes; at += MiB) {
    block[0] = at / MiB;
    await file.write(block, 0, Math.min(MiB, bytes - at), at);
  }
  await file.close();
}

/**
 * Peak RSS, and peak live memory (JS heap plus buffers), while `run` runs, sampled every 20 ms. RSS
 * keeps pages an earlier row used; live memory says what this transfer holds.
 */
async function withPeakMemory<T>(run: () => Promise<T>): Promise<{ value: T; peakRss: number; peakLive: number }> {
  let peakRss = 0;
  let peakLive = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakLive = Math.max(peakLive, m.heapUsed + m.external);
  };
  sample();
  const timer = setInterval(sample, 20);
  try {
    const value = await run();
    sample();
    return { value, peakRss, peakLive };
  } finally {
    clearInterval(timer);
  }
}

type Direction = SftpResult['direction'];
/** One timed transfer: seconds. */
type Transfer = (direction: Direction, remote: string, local: string) => Promise<number>;

async function ourClient(bench: SftpBenchDir, port: number): Promise<{ transfer: Transfer; close(): Promise<void> }> {
  const config = SessionConfig.default();
  config.encryptionAlgorithms = [SFTP_BENCH_CIPHER];
  const client = new TcpClient(config);
  client.onSessionAuthenticating = () => true;
  const session = await client.openSession('127.0.0.1', port);
  if (!(await session.authenticate({ username: 'root', privateKeys: [await importKey(readFileSync(bench.clientKey, 'utf8'))] }))) {
    throw new Error('sshd refused the benchmark key');
  }
  const sftp = await SftpClient.open(session);
  const transfer: Transfer = async (direction, remote, local) => {
    const start = performance.now();
    if (direction === 'download') {
      // Positional writes of the local file overlap (up to 8), as fastGet's and sftp's do; the
      // stream's chunks (the channel's pieces, 32 KiB from sshd) are gathered into writev calls of
      // up to 256 KiB, as node's fs.WriteStream gathers what is queued.
      const file = await open(local, 'w');
      let at = 0;
      let gathered: Uint8Array[] = [];
      let gatheredBytes = 0;
      const pending = new Set<Promise<unknown>>();
      const flush = async (): Promise<void> => {
        const done: Promise<unknown> = file.writev(gathered, at).finally(() => pending.delete(done));
        pending.add(done);
        at += gatheredBytes;
        gathered = [];
        gatheredBytes = 0;
        if (pending.size >= 8) await Promise.race(pending);
      };
      await sftp.createReadStream(remote).pipeTo(
        new WritableStream({
          async write(chunk) {
            gathered.push(chunk);
            gatheredBytes += chunk.length;
            if (gatheredBytes >= 256 * 1024) await flush();
          },
          close: async () => {
            if (gatheredBytes > 0) await flush();
            await Promise.all(pending);
          },
        }),
      );
      await file.close();
    } else {
      // Reads of the local file run ahead of the upload by up to 4 chunks of 256 KiB, into 4
      // buffers used in turn: write() resolves once the channel has copied the chunk, so its buffer
      // is read into again (as fastPut and sftp reuse theirs), instead of a new buffer per chunk.
      const file = await open(local, 'r');
      const writer = sftp.createWriteStream(remote).getWriter();
      const buffers = Array.from({ length: 4 }, () => new Uint8Array(256 * 1024));
      let at = 0;
      const readInto = (buffer: Uint8Array): Promise<number> => {
        const read = file.read(buffer, 0, buffer.length, at).then((r) => r.bytesRead);
        at += buffer.length;
        return read;
      };
      const reads = buffers.map(readInto);
      try {
        for (let i = 0; ; i = (i + 1) % buffers.length) {
          const bytesRead = await reads[i]!;
          if (bytesRead === 0) break;
          await writer.write(buffers[i]!.subarray(0, bytesRead));
          reads[i] = readInto(buffers[i]!);
        }
        await writer.close();
      } finally {
        await Promise.allSettled(reads);
        await file.close();
      }
    }
    return (performance.now() - start) / 1000;
  };
  return { transfer, close: async () => (await sftp.close(), await session.close()) };
}

async function ssh2Client(bench: SftpBenchDir, port: number): Promise<{ transfer: Transfer; close(): Promise<void> }> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host: '127.0.0.1', port, username: 'root', privateKey: readFileSync(bench.clientKey), algorithms: { cipher: [SFTP_BENCH_CIPHER as ssh2.CipherAlgorithm] } });
  });
  const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((error, s) => (error ? reject(error) : resolve(s))));
  const transfer: Transfer = async (direction, remote, local) => {
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (direction === 'download') sftp.fastGet(remote, local, done);
      else sftp.fastPut(local, remote, done);
    });
    return (performance.now() - start) / 1000;
  };
  return { transfer, close: async () => void client.end() };
}

/**
 * OpenSSH's `sftp`: each transfer is a batch, timed from the moment its target file appears in the
 * bench directory (connecting and authenticating left out, as for the in-process clients, whose
 * sessions are open before the clock starts) until sftp exits.
 */
async function openSshClient(bench: SftpBenchDir, port: number): Promise<{ transfer: Transfer; close(): Promise<void> }> {
  const transfer: Transfer = (direction, remote, local) => {
    const command = direction === 'download' ? `get ${remote} ${local}` : `put ${local} ${remote}`;
    return timeSftpBatch(bench, port, [command], basename(direction === 'download' ? local : remote));
  };
  return { transfer, close: async () => {} };
}

/**
 * Runs every SFTP row.
 * @param options file size, rounds and a progress log
 * @returns one result per client, server and direction
 */
export async function runSftpBench(options: { bytes: number; rounds: number; log?: (line: string) => void }): Promise<SftpResult[]> {
  const bench = makeBenchDir();
  const sshd = await startBenchSshd(bench);
  const ours = await startOurSftpServer(bench, bench.dir);
  const results: SftpResult[] = [];
  try {
    const upload = join(bench.dir, 'upload.bin');
    const remote = join(bench.dir, 'remote.bin');
    await makeFile(upload, options.bytes);
    await makeFile(remote, options.bytes);
    const cases = [
      { client: 'ssh-streams', server: 'sftp-server', port: sshd.port, make: ourClient, path: remote, inProcess: true },
      { client: 'ssh2', server: 'sftp-server', port: sshd.port, make: ssh2Client, path: remote, inProcess: true },
      { client: 'openssh', server: 'sftp-server', port: sshd.port, make: openSshClient, path: remote, inProcess: false },
      // Our server serves bench.dir as `/`: the same file by its virtual path.
      { client: 'openssh', server: 'ssh-streams', port: ours.port, make: openSshClient, path: '/remote.bin', inProcess: true },
    ] as const;
    // Rounds go round-robin over every client, server and direction, so a change in the machine's
    // load while the benchmark runs falls on all of them alike.
    const peers = [];
    for (const c of cases) peers.push({ ...c, peer: await c.make(bench, c.port) });
    const runs = new Map<string, { runs: number[]; peak: number; live: number }>();
    try {
      for (let round = 0; round < options.rounds; round++) {
        for (const c of peers) {
          for (const direction of ['download', 'upload'] as const) {
            const target = direction === 'download' ? join(bench.dir, 'download.bin') : c.server === 'ssh-streams' ? '/uploaded.bin' : join(bench.dir, 'uploaded.bin');
            const [remotePath, localPath] = direction === 'download' ? [c.path, target] : [target, upload];
            const { value: seconds, peakRss, peakLive } = await withPeakMemory(() => c.peer.transfer(direction, remotePath, localPath));
            const key = `${c.client} ${c.server} ${direction}`;
            const entry = runs.get(key) ?? { runs: [], peak: 0, live: 0 };
            entry.runs.push(options.bytes / seconds / 1e6);
            entry.peak = Math.max(entry.peak, peakRss);
            entry.live = Math.max(entry.live, peakLive);
            runs.set(key, entry);
            options.log?.(`sftp round ${round + 1}: ${c.client} → ${c.server} ${direction} ${(options.bytes / seconds / 1e6).toFixed(0)} MB/s`);
            await rm(join(bench.dir, direction === 'download' ? 'download.bin' : 'uploaded.bin'), { force: true });
          }
        }
      }
    } finally {
      for (const c of peers) await c.peer.close();
    }
    for (const c of peers) {
      for (const direction of ['download', 'upload'] as const) {
        const entry = runs.get(`${c.client} ${c.server} ${direction}`)!;
        results.push({
          scenario: 'sftp',
          peer: c.client,
          server: c.server,
          direction,
          bytes: options.bytes,
          mbPerSecond: median(entry.runs),
          runs: entry.runs,
          ...(c.inProcess ? { peakRssMiB: entry.peak / MiB, peakLiveMiB: entry.live / MiB } : {}),
        });
      }
    }
  } finally {
    await ours.close();
    await sshd.stop();
    bench.close();
  }
  return results;
}
