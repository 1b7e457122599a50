import { describe, expect, it } from 'vitest';
import { runSshdBench } from '../../bench/sshd.js';
import { formatTable } from '../../bench/table.js';
import { skipWithoutOpenSsh } from '../helpers/openssh.js';

describe.skipIf(skipWithoutOpenSsh())('sshd benchmark smoke run', () => {
  it('moves the bytes each way through every client against one sshd and tabulates them', async () => {
    const results = await runSshdBench({ bytes: 1024 * 1024, rounds: 1, ciphers: ['chacha20-poly1305@openssh.com'] });
    const peers = ['ssh-streams', 'ssh2', 'ssh2-no-addon', 'openssh'];
    expect(results.map((r) => [r.direction, r.peer])).toEqual(
      ['download', 'upload', 'forward'].flatMap((direction) => peers.map((peer) => [direction, peer])),
    );
    for (const r of results) {
      expect(r).toMatchObject({ scenario: 'sshd', cipher: 'chacha20-poly1305@openssh.com', bytes: 1024 * 1024 });
      expect(r.runs).toHaveLength(1);
      expect(r.mbPerSecond).toBeGreaterThan(0);
      // The Node clients report their process's CPU; `ssh` runs in processes of its own.
      if (r.peer === 'openssh') expect(r.clientCpuMsPerMiB).toBeUndefined();
      else expect(r.clientCpuRuns).toHaveLength(1);
    }
    const table = formatTable(results);
    expect(table).toContain('sshd chacha20-poly1305 forward 1 MiB (MB/s, median)');
    expect(table).toContain('  client CPU ms per MiB, sshd chacha20-poly1305 upload');
  }, 120_000);
});
