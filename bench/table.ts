/**
 * Formats benchmark results as a plain-text table: one row per measurement, one column per peer,
 * "n/a" with the reason where a peer lacks an algorithm.
 */
import type { BenchResult, BrowserResult, ChannelsResult, SetupResult, SftpResult, SshdResult, ThroughputResult } from './types.js';

const shortCipher = (cipher: string): string => cipher.replace(/@openssh\.com$/, '');
const arrow = { 'client-to-server': 'client→server', 'server-to-client': 'server→client' } as const;

/** The results as aligned text, peers in the order they ran. */
export function formatTable(results: readonly BenchResult[]): string {
  const peers = [...new Set(results.map((r) => r.peer))];
  const rows = new Map<string, Map<string, string>>();
  const cell = (row: string, peer: string, value: string): void => {
    if (!rows.has(row)) rows.set(row, new Map());
    rows.get(row)!.set(peer, value);
  };
  for (const r of results) {
    if (r.scenario === 'throughput') {
      const t = r as ThroughputResult;
      const row = `${shortCipher(t.cipher)} ${arrow[t.direction]} ${t.bytes >= 1 << 20 ? `${t.bytes / (1 << 20)} MiB` : `${t.bytes / 1024} KiB`} (MB/s, median)`;
      cell(row, t.peer, t.supported ? t.mbPerSecond!.toFixed(0) : 'n/a (no cipher)');
      if (t.cpuMsPerMiB !== undefined) cell(`  CPU ms per MiB, both ends, ${shortCipher(t.cipher)} ${arrow[t.direction]}`, t.peer, t.cpuMsPerMiB.toFixed(2));
    } else if (r.scenario === 'setup') {
      const s = r as SetupResult;
      if (s.pinnedKex) {
        cell(`session setup with ssh2's kex (${s.kex.replace(/@.*$/, '')}), median of ${s.samples} (ms)`, s.peer, s.medianMs.toFixed(1));
        cell(`  CPU ms per setup, both ends, with ${s.kex.replace(/@.*$/, '')}`, s.peer, s.medianCpuMs.toFixed(1));
      } else {
        cell(`session setup, median of ${s.samples} (ms)`, s.peer, s.medianMs.toFixed(1));
        cell('  CPU ms per setup, both ends', s.peer, s.medianCpuMs.toFixed(1));
        cell('  key exchange used', s.peer, s.kex);
      }
    } else if (r.scenario === 'sftp') {
      const f = r as SftpResult;
      const row = `sftp ${f.direction} ${f.bytes / (1 << 20)} MiB, server ${f.server} (MB/s, median)`;
      cell(row, f.peer, f.mbPerSecond.toFixed(0));
      if (f.peakRssMiB !== undefined) cell(`  peak RSS / live heap+buffers of this process, ${f.direction} via ${f.server} (MiB)`, f.peer, `${f.peakRssMiB.toFixed(0)} / ${f.peakLiveMiB!.toFixed(0)}`);
    } else if (r.scenario === 'sshd') {
      const d = r as SshdResult;
      cell(`sshd ${shortCipher(d.cipher)} ${d.direction} ${d.bytes / (1 << 20)} MiB (MB/s, median)`, d.peer, d.mbPerSecond.toFixed(0));
      if (d.clientCpuMsPerMiB !== undefined) cell(`  client CPU ms per MiB, sshd ${shortCipher(d.cipher)} ${d.direction}`, d.peer, d.clientCpuMsPerMiB.toFixed(2));
    } else if (r.scenario === 'browser') {
      const b = r as BrowserResult;
      const row = `${shortCipher(b.cipher)} ${arrow[b.direction]} ${b.bytes / (1 << 20)} MiB, page in Chromium (MB/s, median)`;
      cell(row, b.peer, b.mbPerSecond.toFixed(1));
      cell(`  MB per CPU second, ${shortCipher(b.cipher)} ${arrow[b.direction]}: page / Chromium's others / Node server`, b.peer, [b.pageCpuMbPerSecond, b.chromiumCpuMbPerSecond, b.serverCpuMbPerSecond].map((v) => v.toFixed(0)).join(' / '));
    } else {
      const c = r as ChannelsResult;
      cell(`open ${c.count} channels at once (ms)`, c.peer, c.openMs.toFixed(0));
      cell(`  CPU ms for the ${c.count} opens, both ends`, c.peer, c.openCpuMs.toFixed(0));
      cell('  heap per channel, both ends (KiB)', c.peer, (c.heapBytesPerChannel / 1024).toFixed(1));
      cell('  RSS per channel, both ends (KiB)', c.peer, (c.rssBytesPerChannel / 1024).toFixed(1));
    }
  }
  const header = ['', ...peers];
  const body = [...rows].map(([name, values]) => [name, ...peers.map((p) => values.get(p) ?? '-')]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((line) => line[i]!.length)));
  const format = (line: string[]): string => line.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(format)].join('\n');
}
