/**
 * The three measurements of `npm run bench`, run peer by peer: single-channel
 * bulk throughput per cipher and direction, session setup time (connect + kex + auth + first
 * channel), and many concurrent channels on one session (open time, memory per channel).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BenchOptions, BenchResult, ChannelsResult, Direction, Peer, PeerServer, SetupResult, ThroughputResult } from './types.js';
import { median } from './median.js';
import { forkBenchChild } from './child-process.js';

const directions: readonly Direction[] = ['client-to-server', 'server-to-client'];

let exposedGc: (() => void) | undefined;

/** A full collection, so heap figures compare live objects only (one context made for it, once). */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) return gc();
  if (exposedGc === undefined) {
    setFlagsFromString('--expose-gc');
    exposedGc = runInNewContext('gc') as () => void;
  }
  exposedGc();
}

/** Milliseconds of CPU (user + system, every thread of this process) since `since`. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

/** 256 MiB (or `options.bytes`) through one channel, after a warm-up of 1/16 of it on the same channel. */
export async function measureThroughput(
  peer: Peer,
  server: PeerServer,
  options: Pick<BenchOptions, 'bytes' | 'chunkSize'> & { cipher: string; direction: Direction },
): Promise<ThroughputResult> {
  const { cipher, direction, bytes } = options;
  const base = { scenario: 'throughput', peer: peer.name, cipher, direction, bytes } as const;
  if (!peer.ciphers.includes(cipher)) return { ...base, supported: false };
  const link = await server.connect(cipher);
  try {
    if (link.cipher !== cipher) throw new Error(`${peer.name} negotiated ${link.cipher} instead of ${cipher}`);
    const pair = await link.openChannel();
    await pair.transfer(direction, Math.max(options.chunkSize, bytes >> 4), options.chunkSize);
    const cpu = process.cpuUsage();
    const start = performance.now();
    await pair.transfer(direction, bytes, options.chunkSize);
    const seconds = (performance.now() - start) / 1000;
    const cpuMsPerMiB = cpuMs(cpu) / (bytes / (1024 * 1024));
    await pair.close();
    return { ...base, supported: true, seconds, mbPerSecond: bytes / seconds / 1e6, cpuMsPerMiB };
  } finally {
    await link.close();
  }
}

/** Median over `samples` fresh sessions of connect + key exchange + authentication + first channel open. */
export async function measureSetup(peer: Peer, server: PeerServer, options: { samples: number; cipher: string }): Promise<SetupResult> {
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let kex = '';
  // One untimed session first: module loading and JIT belong to no sample.
  for (let i = -1; i < options.samples; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const link = await server.connect(options.cipher);
    const pair = await link.openChannel();
    const elapsed = performance.now() - start;
    if (i >= 0) times.push(elapsed);
    if (i >= 0) cpuTimes.push(cpuMs(cpu));
    kex = link.kex;
    await pair.close();
    await link.close();
  }
  return {
    scenario: 'setup',
    peer: peer.name,
    kex,
    samples: times.length,
    medianMs: median(times),
    minMs: Math.min(...times),
    medianCpuMs: median(cpuTimes),
  };
}

/**
 * The key exchange every peer's setup is also measured with, so that setup compares like with
 * like: ssh2 negotiates curve25519 by default, ssh-streams the heavier mlkem768x25519 hybrid.
 */
export const comparisonKex = 'curve25519-sha256';

/**
 * `measureSetup` on a server whose client offers only `kex`; undefined for a peer that cannot pin
 * its key exchange (its link reports another one).
 */
export async function measureSetupWithKex(
  peer: Peer,
  kex: string,
  options: { samples: number; cipher: string },
): Promise<SetupResult | undefined> {
  const server = await peer.start({ kex });
  try {
    const setup = await measureSetup(peer, server, options);
    return setup.kex.startsWith(kex) ? { ...setup, pinnedKex: true } : undefined;
  } finally {
    await server.close();
  }
}

/** Opens `count` channels at once on one session; memory is measured with all of them open. */
export async function measureChannels(peer: Peer, server: PeerServer, options: { count: number; cipher: string }): Promise<ChannelsResult> {
  const link = await server.connect(options.cipher);
  try {
    // Warm the open path so the first-use costs are not charged to the channels.
    await (await link.openChannel()).close();
    collectGarbage();
    const before = process.memoryUsage();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const pairs = await Promise.all(Array.from({ length: options.count }, () => link.openChannel()));
    const openMs = performance.now() - start;
    const openCpuMs = cpuMs(cpu);
    collectGarbage();
    const after = process.memoryUsage();
    await Promise.all(pairs.map((p) => p.close()));
    return {
      scenario: 'channels',
      peer: peer.name,
      count: options.count,
      openMs,
      openCpuMs,
      heapBytesPerChannel: (after.heapUsed - before.heapUsed) / options.count,
      rssBytesPerChannel: (after.rss - before.rss) / options.count,
    };
  } finally {
    await link.close();
  }
}

/** Several throughput runs of one peer, cipher and direction, summarised by their median. */
function summarise(runs: readonly ThroughputResult[]): ThroughputResult {
  const first = runs[0]!;
  if (!first.supported) return first;
  const rates = runs.map((r) => r.mbPerSecond!);
  const cpu = runs.map((r) => r.cpuMsPerMiB!);
  return { ...first, seconds: median(runs.map((r) => r.seconds!)), mbPerSecond: median(rates), runs: rates, cpuMsPerMiB: median(cpu), cpuRuns: cpu };
}

/** One peer's measurements, run in this process or in a child process of its own. */
export interface PeerRunner {
  readonly name: string;
  throughput(options: Pick<BenchOptions, 'bytes' | 'chunkSize'> & { cipher: string; direction: Direction }): Promise<ThroughputResult>;
  setup(options: { samples: number; cipher: string }): Promise<SetupResult>;
  setupWithKex(kex: string, options: { samples: number; cipher: string }): Promise<SetupResult | undefined>;
  channels(options: { count: number; cipher: string }): Promise<ChannelsResult>;
  close(): Promise<void>;
}

/** A runner in this process: `peer`'s server started here, a full collection after each measurement. */
export async function localRunner(peer: Peer): Promise<PeerRunner> {
  const server = await peer.start();
  const thenCollect = async <T>(result: Promise<T>): Promise<T> => {
    const value = await result;
    collectGarbage();
    return value;
  };
  return {
    name: peer.name,
    throughput: (options) => thenCollect(measureThroughput(peer, server, options)),
    setup: (options) => thenCollect(measureSetup(peer, server, options)),
    setupWithKex: (kex, options) => thenCollect(measureSetupWithKex(peer, kex, options)),
    channels: (options) => thenCollect(measureChannels(peer, server, options)),
    close: () => server.close(),
  };
}

/** A measurement asked of a runner in a child process (bench/peer-child.ts). */
export type RunnerRequest =
  | { kind: 'throughput'; options: Parameters<PeerRunner['throughput']>[0] }
  | { kind: 'setup'; options: Parameters<PeerRunner['setup']>[0] }
  | { kind: 'setupWithKex'; kex: string; options: Parameters<PeerRunner['setupWithKex']>[1] }
  | { kind: 'channels'; options: Parameters<PeerRunner['channels']>[0] };

/**
 * A runner in a child process of its own (bench/peer-child.ts), as an application runs one
 * library: the collector's schedule then follows this library alone.
 */
export async function childRunner(peer: Peer): Promise<PeerRunner> {
  const child = await forkBenchChild('peer-child', [peer.name]);
  const ask = <T>(request: RunnerRequest): Promise<T> => child.request<T>(request);
  return {
    name: peer.name,
    throughput: (options) => ask({ kind: 'throughput', options }),
    setup: (options) => ask({ kind: 'setup', options }),
    setupWithKex: async (kex, options) => (await ask<SetupResult | null>({ kind: 'setupWithKex', kex, options })) ?? undefined,
    channels: (options) => ask({ kind: 'channels', options }),
    close: () => child.close(),
  };
}

/**
 * Runs every scenario for every selected peer, each through the runner `run` makes for it (in
 * this process by default; `npm run bench` gives each library a child process of its own).
 * Throughput rounds are interleaved across peers (round 1 of every peer, then round 2, ...) so
 * that a busy moment on the machine does not land on one peer only; setup and channel scenarios
 * then run peer by peer.
 */
export async function runBenchmark(
  peers: readonly Peer[],
  options: BenchOptions,
  run: (peer: Peer) => Promise<PeerRunner> = localRunner,
): Promise<BenchResult[]> {
  const log = options.log ?? (() => {});
  const selected = options.only.length > 0 ? peers.filter((p) => options.only.includes(p.name)) : peers;
  const setupCipher = options.ciphers[0]!;
  const runners: PeerRunner[] = [];
  const runs = new Map<string, ThroughputResult[]>();
  const results: BenchResult[] = [];
  try {
    for (const peer of selected) runners.push(await run(peer));
    for (let round = 1; round <= options.rounds; round++) {
      for (const cipher of options.ciphers) {
        for (const direction of directions) {
          for (const runner of runners) {
            const result = await runner.throughput({ cipher, direction, bytes: options.bytes, chunkSize: options.chunkSize });
            const key = `${runner.name} ${cipher} ${direction}`;
            runs.set(key, [...(runs.get(key) ?? []), result]);
            log(`round ${round} ${key}: ${result.supported ? `${result.mbPerSecond!.toFixed(0)} MB/s` : 'not supported'}`);
          }
        }
      }
    }
    for (const runner of runners) {
      for (const cipher of options.ciphers) {
        for (const direction of directions) results.push(summarise(runs.get(`${runner.name} ${cipher} ${direction}`)!));
      }
      const setup = await runner.setup({ samples: options.setupSamples, cipher: setupCipher });
      log(`${runner.name} setup: ${setup.medianMs.toFixed(1)} ms median (${setup.kex})`);
      results.push(setup);
      const pinned = await runner.setupWithKex(comparisonKex, { samples: options.setupSamples, cipher: setupCipher });
      if (pinned !== undefined) {
        log(`${runner.name} setup with ${comparisonKex}: ${pinned.medianMs.toFixed(1)} ms median (${pinned.kex})`);
        results.push(pinned);
      }
      const channels = await runner.channels({ count: options.channels, cipher: setupCipher });
      log(`${runner.name} ${channels.count} channels: ${channels.openMs.toFixed(0)} ms, ${(channels.heapBytesPerChannel / 1024).toFixed(1)} KiB heap each`);
      results.push(channels);
    }
  } finally {
    for (const runner of runners) await runner.close();
  }
  return results;
}
