import { describe, expect, it } from 'vitest';
import { runSftpBench } from '../../bench/sftp.js';
import { formatTable } from '../../bench/table.js';
import { skipWithoutOpenSsh } from '../helpers/openssh.js';

describe.skipIf(skipWithoutOpenSsh())('SFTP benchmark smoke run', () => {
  it('measures every client and server in both directions and tabulates them', async () => {
    const results = await runSftpBench({ bytes: 1024 * 1024, rounds: 1 });
    expect(results.map((r) => [r.peer, r.server, r.direction])).toEqual([
      ['ssh-streams', 'sftp-server', 'download'],
      ['ssh-streams', 'sftp-server', 'upload'],
      ['ssh2', 'sftp-server', 'download'],
      ['ssh2', 'sftp-server', 'upload'],
      ['openssh', 'sftp-server', 'download'],
      ['openssh', 'sftp-server', 'upload'],
      ['openssh', 'ssh-streams', 'download'],
      ['openssh', 'ssh-streams', 'upload'],
    ]);
    for (const r of results) {
      expect(r.runs).toHaveLength(1);
      expect(Number.isFinite(r.mbPerSecond)).toBe(true);
    }
    expect(results[0]!.peakRssMiB).toBeGreaterThan(0);
    expect(results[4]!.peakRssMiB).toBeUndefined();
    expect(formatTable(results)).toContain('sftp download 1 MiB, server sftp-server (MB/s, median)');
  });
});
