import { describe, expect, it } from 'vitest';
import { childRunner, runBenchmark } from '../../bench/scenarios.js';
import { removeBundledChildren } from '../../bench/child-process.js';
import { formatTable } from '../../bench/table.js';
import { sshStreamsPeer } from '../../bench/peers/ssh-streams.js';
import { ssh2HasNativeAddon, ssh2NoAddonPeer } from '../../bench/peers/ssh2.js';
import type { BenchOptions, ChannelsResult, SetupResult, ThroughputResult } from '../../bench/types.js';

const tiny: BenchOptions = {
  bytes: 256 * 1024,
  chunkSize: 16 * 1024,
  rounds: 2,
  setupSamples: 2,
  channels: 20,
  ciphers: ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
  only: [],
};

describe('benchmark smoke run', () => {
  it('measures every scenario for ssh-streams and reports each in the result shape', async () => {
    const results = await runBenchmark([sshStreamsPeer], tiny);
    const throughput = results.filter((r): r is ThroughputResult => r.scenario === 'throughput');
    expect(throughput.map((r) => [r.cipher, r.direction])).toEqual([
      ['aes256-gcm@openssh.com', 'client-to-server'],
      ['aes256-gcm@openssh.com', 'server-to-client'],
      ['chacha20-poly1305@openssh.com', 'client-to-server'],
      ['chacha20-poly1305@openssh.com', 'server-to-client'],
    ]);
    for (const r of throughput) {
      expect(r).toMatchObject({ peer: 'ssh-streams', bytes: tiny.bytes, supported: true });
      expect(r.mbPerSecond).toBeGreaterThan(0);
      expect(r.runs).toHaveLength(2);
      expect(r.cpuRuns).toHaveLength(2);
      expect(r.cpuMsPerMiB).toBeGreaterThan(0);
    }
    const [setup, pinned, ...more] = results.filter((r): r is SetupResult => r.scenario === 'setup');
    expect(more).toEqual([]);
    expect(setup).toMatchObject({ peer: 'ssh-streams', samples: 2, kex: 'mlkem768x25519-sha256' });
    expect(setup!.pinnedKex).toBeUndefined();
    expect(setup!.minMs).toBeLessThanOrEqual(setup!.medianMs);
    expect(setup!.medianCpuMs).toBeGreaterThan(0);
    expect(pinned).toMatchObject({ peer: 'ssh-streams', samples: 2, kex: 'curve25519-sha256', pinnedKex: true });
    const channels = results.find((r): r is ChannelsResult => r.scenario === 'channels')!;
    expect(channels).toMatchObject({ peer: 'ssh-streams', count: 20 });
    expect(Number.isFinite(channels.heapBytesPerChannel)).toBe(true);
    expect(channels.openCpuMs).toBeGreaterThan(0);
    const table = formatTable(results);
    expect(table).toContain('aes256-gcm client→server 256 KiB');
    expect(table).toContain('  CPU ms per MiB, both ends, chacha20-poly1305 server→client');
    expect(table).toContain("session setup with ssh2's kex (curve25519-sha256), median of 2 (ms)");
    expect(table).toContain('CPU ms per setup, both ends');
    expect(table).toContain('CPU ms for the 20 opens, both ends');
  });

  it('reports a cipher a peer lacks as unsupported, without a figure, and skips peers not selected', async () => {
    const withoutChacha = { ...sshStreamsPeer, name: 'aes-only', ciphers: ['aes256-gcm@openssh.com'] };
    const results = await runBenchmark([sshStreamsPeer, withoutChacha], {
      ...tiny,
      ciphers: ['chacha20-poly1305@openssh.com'],
      setupSamples: 1,
      channels: 2,
      only: ['aes-only'],
    });
    expect(results.every((r) => r.peer === 'aes-only')).toBe(true);
    const throughput = results.filter((r): r is ThroughputResult => r.scenario === 'throughput');
    expect(throughput).toHaveLength(2);
    for (const r of throughput) {
      expect(r.supported).toBe(false);
      expect(r.mbPerSecond).toBeUndefined();
    }
    expect(formatTable(results)).toContain('n/a (no cipher)');
  });

  it('runs a private ssh2 copy without its native addon and leaves the installed ssh2 as it was', async () => {
    const before = ssh2HasNativeAddon();
    const results = await runBenchmark([ssh2NoAddonPeer], { ...tiny, rounds: 1, ciphers: ['aes256-gcm@openssh.com'] });
    const throughput = results.filter((r): r is ThroughputResult => r.scenario === 'throughput');
    expect(throughput).toHaveLength(2);
    for (const r of throughput) expect(r).toMatchObject({ peer: 'ssh2-no-addon', supported: true });
    expect(ssh2HasNativeAddon()).toBe(before);
  });

  it('runs each library in a child process of its own when given childRunner, with the same result shape', async () => {
    try {
      const results = await runBenchmark([sshStreamsPeer, ssh2NoAddonPeer], { ...tiny, rounds: 1, ciphers: ['aes256-gcm@openssh.com'], setupSamples: 1, channels: 5 }, childRunner);
      const throughput = results.filter((r): r is ThroughputResult => r.scenario === 'throughput');
      expect(throughput.map((r) => [r.peer, r.direction])).toEqual([
        ['ssh-streams', 'client-to-server'],
        ['ssh-streams', 'server-to-client'],
        ['ssh2-no-addon', 'client-to-server'],
        ['ssh2-no-addon', 'server-to-client'],
      ]);
      for (const r of throughput) expect(r.mbPerSecond).toBeGreaterThan(0);
      const setups = results.filter((r): r is SetupResult => r.scenario === 'setup');
      expect(setups.map((r) => [r.peer, r.kex])).toEqual([
        ['ssh-streams', 'mlkem768x25519-sha256'],
        ['ssh-streams', 'curve25519-sha256'],
        ['ssh2-no-addon', 'curve25519-sha256@libssh.org'],
        ['ssh2-no-addon', 'curve25519-sha256'],
      ]);
      expect(results.filter((r) => r.scenario === 'channels').map((r) => r.peer)).toEqual(['ssh-streams', 'ssh2-no-addon']);
    } finally {
      removeBundledChildren();
    }
  }, 60_000);
});
