/**
 * `npm run bench`: ssh-streams, ssh2 (as installed, and a copy without its native addon) and
 * dev-tunnels-ssh side by side on 127.0.0.1 TCP, each library's client and server in this one
 * process. Prints a table and writes
 * bench/results/latest.json. Options (argv or env): --quick (BENCH_QUICK=1) for small sizes,
 * --only=<peer>[,<peer>] (BENCH_ONLY), --bytes=<MiB> (BENCH_MIB), --cipher=<name prefix> (BENCH_CIPHER;
 * `--cipher=none` measures ssh-streams without packet crypto),
 * --rounds=<n> (BENCH_ROUNDS, throughput runs whose median is shown; 3 by default).
 * SFTP rows (bench/sftp.ts, needs OpenSSH and root) run too; `--only=sftp` runs only them, and
 * `--no-sftp` (BENCH_NO_SFTP=1) leaves them out. The sshd rows (bench/sshd.ts: clients against
 * OpenSSH's sshd, download/upload/forward, both ciphers) likewise: `--only=sshd`, `--no-sshd`
 * (BENCH_NO_SSHD=1); `--sshd-clients=ssh-streams,openssh` picks their clients.
 * Browser rows (bench/browser.ts, a page in Debian's Chromium) run only when asked for:
 * `--only=browser`, with `--bytes` and `--cipher` as above; `--browser-profile=DIR` writes a CPU
 * profile of the page per row.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childRunner, runBenchmark } from './scenarios.js';
import { formatTable } from './table.js';
import { ssh2HasNativeAddon } from './peers/ssh2.js';
import { loadAllPeers } from './peers/all.js';
import type { BenchOptions, BenchResult } from './types.js';

const MiB = 1024 * 1024;

function option(name: string, envName: string): string | undefined {
  const flag = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag !== undefined) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'true';
  return process.env[envName];
}

/**
 * The ciphers measured: those starting with `prefix`; `none` (cipher and MAC `none` after a real
 * key exchange, ssh-streams only) only when asked for by name, to see what everything but the
 * packet crypto costs.
 */
function selectCiphers(prefix: string): string[] {
  if (prefix === 'none') return ['none'];
  return ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'].filter((c) => c.startsWith(prefix));
}

const quick = option('quick', 'BENCH_QUICK') !== undefined;
const mib = Number(option('bytes', 'BENCH_MIB') ?? (quick ? 16 : 256));
const options: BenchOptions = {
  bytes: mib * MiB,
  chunkSize: 64 * 1024,
  rounds: Number(option('rounds', 'BENCH_ROUNDS') ?? (quick ? 1 : 3)),
  setupSamples: quick ? 5 : 20,
  channels: quick ? 100 : 1000,
  ciphers: selectCiphers(option('cipher', 'BENCH_CIPHER') ?? ''),
  only: (option('only', 'BENCH_ONLY') ?? '').split(',').filter(Boolean),
  log: (line) => console.error(line),
};

const peers = await loadAllPeers();
const sections = ['sftp', 'sshd', 'browser'];
const unknown = options.only.filter((name) => !sections.includes(name) && !peers.some((p) => p.name === name));
if (unknown.length > 0) throw new Error(`Unknown peer ${unknown.join(', ')}; peers are ${peers.map((p) => p.name).join(', ')}, ${sections.join(', ')}`);

const onlySections = options.only.length > 0 && options.only.every((name) => sections.includes(name));
const wants = (section: string, off: string, env: string): boolean =>
  option(off, env) === undefined && (options.only.length === 0 || options.only.includes(section));
const onlyPeers = options.only.filter((name) => !sections.includes(name));
const results: BenchResult[] = onlySections ? [] : await runBenchmark(peers, { ...options, only: onlyPeers }, childRunner);
if (wants('sshd', 'no-sshd', 'BENCH_NO_SSHD')) {
  const clients = (option('sshd-clients', 'BENCH_SSHD_CLIENTS') ?? '').split(',').filter(Boolean);
  const { runSshdBench } = await import('./sshd.js');
  results.push(...(await runSshdBench({ bytes: options.bytes, rounds: options.rounds, ciphers: selectCiphers(option('cipher', 'BENCH_CIPHER') ?? '').filter((c) => c !== 'none'), peers: clients, log: options.log })));
}
if (options.only.includes('browser')) {
  // Pure-JS packet crypto is ~10x slower than node:crypto: the browser rows default to 32 MiB.
  const browserBytes = option('bytes', 'BENCH_MIB') === undefined ? 32 * MiB : options.bytes;
  const ciphers = option('cipher', 'BENCH_CIPHER') === undefined ? ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com'] : options.ciphers;
  const profileDir = option('browser-profile', 'BENCH_BROWSER_PROFILE');
  const { runBrowserBench } = await import('./browser.js');
  results.push(...(await runBrowserBench({ bytes: browserBytes, chunkSize: options.chunkSize, rounds: options.rounds, ciphers, profileDir, log: options.log })));
}
if (wants('sftp', 'no-sftp', 'BENCH_NO_SFTP')) {
  const { runSftpBench } = await import('./sftp.js');
  results.push(...(await runSftpBench({ bytes: options.bytes, rounds: options.rounds, log: options.log })));
}
const environment = {
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  ssh2NativeAddon: ssh2HasNativeAddon(),
  arrangement: 'each library in a child process of its own, its client and server together, 127.0.0.1 TCP',
};
console.log(formatTable(results));
console.log(`\nNode ${environment.node}, ${environment.cpu}; ssh2 native addon: ${environment.ssh2NativeAddon ? 'yes' : 'no'}`);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'bench', 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
const { log: _log, ...recorded } = options;
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), environment, options: recorded, results }, null, 2)}\n`);
console.log(`Results written to ${out}`);
