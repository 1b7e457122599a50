/**
 * `npm run bench:session`: the per-session and per-channel rows of `npm run bench` alone (session
 * setup, 1000 channels at once), rounds interleaved across peers so that a busy moment on a shared
 * machine lands on every peer alike; prints each round and the medians, with each peer's ratio to
 * ssh-streams. Options (argv or env): --rounds=<n> (BENCH_ROUNDS, 5), --channels=<n> (BENCH_CHANNELS,
 * 1000), --samples=<n> (BENCH_SETUP_SAMPLES, 20 setups per round), --only=<peer>[,<peer>]
 * (BENCH_ONLY), --cipher=<name> (BENCH_CIPHER, aes256-gcm@openssh.com), --kex=<name> (BENCH_KEX: the
 * kex ssh-streams' client offers first; ssh2 negotiates its own default).
 */
import { measureChannels, measureSetup } from './scenarios.js';
import { sshStreamsPeer } from './peers/ssh-streams.js';
import { ssh2NoAddonPeer, ssh2Peer } from './peers/ssh2.js';
import type { ChannelsResult, Peer, PeerServer, SetupResult } from './types.js';
import { median } from './median.js';

function option(name: string, envName: string): string | undefined {
  const flag = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return flag !== undefined ? flag.slice(flag.indexOf('=') + 1) : process.env[envName];
}

const rounds = Number(option('rounds', 'BENCH_ROUNDS') ?? 5);
const count = Number(option('channels', 'BENCH_CHANNELS') ?? 1000);
const samples = Number(option('samples', 'BENCH_SETUP_SAMPLES') ?? 20);
const cipher = option('cipher', 'BENCH_CIPHER') ?? 'aes256-gcm@openssh.com';
const kex = option('kex', 'BENCH_KEX');
const only = (option('only', 'BENCH_ONLY') ?? '').split(',').filter(Boolean);
const peers = [sshStreamsPeer, ssh2Peer, ssh2NoAddonPeer].filter((p) => only.length === 0 || only.includes(p.name));

const servers = new Map<Peer, PeerServer>();
const setups = new Map<Peer, SetupResult[]>();
const channels = new Map<Peer, ChannelsResult[]>();
try {
  for (const peer of peers) servers.set(peer, await peer.start({ kex }));
  for (let round = 1; round <= rounds; round++) {
    for (const peer of peers) {
      const setup = await measureSetup(peer, servers.get(peer)!, { samples, cipher });
      setups.set(peer, [...(setups.get(peer) ?? []), setup]);
      const opened = await measureChannels(peer, servers.get(peer)!, { count, cipher });
      channels.set(peer, [...(channels.get(peer) ?? []), opened]);
      console.error(
        `round ${round} ${peer.name}: setup ${setup.medianMs.toFixed(2)} ms, ${setup.medianCpuMs.toFixed(2)} CPU ms (${setup.kex}), ` +
          `${count} channels ${opened.openMs.toFixed(0)} ms, ${opened.openCpuMs.toFixed(0)} CPU ms, ${(opened.heapBytesPerChannel / 1024).toFixed(2)} KiB heap each`,
      );
    }
  }
} finally {
  for (const server of servers.values()) await server.close();
}

const base = peers[0]!;
const summary = (peer: Peer): { setup: number; setupCpu: number; open: number; openCpu: number; heap: number } => ({
  setup: median(setups.get(peer)!.map((s) => s.medianMs)),
  setupCpu: median(setups.get(peer)!.map((s) => s.medianCpuMs)),
  open: median(channels.get(peer)!.map((c) => c.openMs)),
  openCpu: median(channels.get(peer)!.map((c) => c.openCpuMs)),
  heap: median(channels.get(peer)!.map((c) => c.heapBytesPerChannel)) / 1024,
});
const ours = summary(base);
for (const peer of peers) {
  const s = summary(peer);
  // How many times this peer's figure ssh-streams takes: above 1, ssh-streams is slower.
  const ratio = (theirs: number, ours: number): string => (peer === base ? '' : ` (${base.name} ${(ours / theirs).toFixed(2)}x)`);
  console.log(
    `${peer.name.padEnd(14)} setup ${s.setup.toFixed(2)} ms${ratio(s.setup, ours.setup)}, CPU ${s.setupCpu.toFixed(2)} ms${ratio(s.setupCpu, ours.setupCpu)}  ` +
      `open ${count}: ${s.open.toFixed(0)} ms${ratio(s.open, ours.open)}, CPU ${s.openCpu.toFixed(0)} ms${ratio(s.openCpu, ours.openCpu)}  heap/channel ${s.heap.toFixed(2)} KiB  [${setups.get(peer)![0]!.kex}]`,
  );
}
