/**
 * `npm run soak`: load and soak figures, written into bench/results/latest.json under `soak`
 * (the rest of that file, from `npm run bench`, is kept). Parts, each selectable with
 * --only=concurrent,data,reconnect:
 *   concurrent: --sessions=<n> (1000) concurrent sessions with a channel each on one server process,
 *     ssh-streams and ssh2 side by side: handshakes/s, heap and RSS per session;
 *   data: --data-sessions=<n> (200) x --channels=<n> (4) channels writing for --minutes=<n> (10),
 *     sampled each minute (--sample-seconds): throughput, server heap, errors, bytes delivered;
 *   reconnect: --kills=<n> (100) socket kills under load against ssh-streams and dev-tunnels-ssh,
 *     each once --kill-after=<bytes> (262144) arrived on the new connection, SHA-256 of both
 *     directions compared.
 * A run of some parts keeps the figures of the others already in the file.
 * Exits 1 when a part saw an error, a leak, or a lost or duplicated byte.
 */
import '../../lib/platform/node.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runConcurrentSoak, type ConcurrentResult } from './concurrent.js';
import { runDataSoak, type DataSoakResult } from './data.js';
import { runReconnectSoak, type ReconnectSoakResult } from './reconnect.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'concurrent,data,reconnect' },
    sessions: { type: 'string', default: '1000' },
    'data-sessions': { type: 'string', default: '200' },
    channels: { type: 'string', default: '4' },
    minutes: { type: 'string', default: '10' },
    'sample-seconds': { type: 'string', default: '60' },
    kills: { type: 'string', default: '100' },
    'kill-after': { type: 'string', default: String(256 * 1024) },
  },
});
const parts = new Set(values.only.split(','));
const log = (line: string): void => console.error(line);
const soak: { concurrent?: ConcurrentResult[]; data?: DataSoakResult; reconnect?: ReconnectSoakResult[] } = {};
const problems: string[] = [];
const loadBefore = loadavg();

if (parts.has('concurrent')) {
  soak.concurrent = [];
  for (const kind of ['ssh-streams', 'ssh2'] as const) {
    log(`concurrent: ${values.sessions} sessions on ${kind}`);
    const result = await runConcurrentSoak(kind, Number(values.sessions));
    log(JSON.stringify(result));
    soak.concurrent.push(result);
    if (result.errors > 0 || result.leftOpen.sessions > 0 || result.leftOpen.channels > 0) problems.push(`concurrent ${kind}: ${JSON.stringify(result)}`);
  }
}
if (parts.has('data')) {
  log(`data: ${values['data-sessions']} sessions x ${values.channels} channels for ${values.minutes} minutes`);
  const result = await runDataSoak({
    sessions: Number(values['data-sessions']),
    channels: Number(values.channels),
    seconds: Number(values.minutes) * 60,
    sampleSeconds: Number(values['sample-seconds']),
    log,
  });
  soak.data = result;
  if (result.errors > 0 || result.bytesReceived !== result.bytesSent || result.leftOpen.sessions + result.leftOpen.channels > 0) {
    problems.push(`data: ${result.errors} errors, ${result.bytesSent} sent, ${result.bytesReceived} received, left open ${JSON.stringify(result.leftOpen)}`);
  }
}
if (parts.has('reconnect')) {
  soak.reconnect = [];
  for (const peer of ['ssh-streams', 'dev-tunnels-ssh'] as const) {
    log(`reconnect: ${values.kills} kills against ${peer}`);
    const result = await runReconnectSoak(peer, Number(values.kills), Number(values['kill-after']));
    log(JSON.stringify(result));
    soak.reconnect.push(result);
    const c2s = result.clientToServer;
    const s2c = result.serverToClient;
    if (result.errors.length > 0 || !c2s.hashesEqual || !s2c.hashesEqual || c2s.sentBytes !== c2s.receivedBytes || s2c.sentBytes !== s2c.receivedBytes) {
      problems.push(`reconnect ${peer}: ${JSON.stringify(result)}`);
    }
  }
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = join(root, 'bench', 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
const existing = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
const environment = {
  node: process.version,
  cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  loadAverageBefore: loadBefore.map((n) => Math.round(n * 10) / 10),
  loadAverageAfter: loadavg().map((n) => Math.round(n * 10) / 10),
};
const previous = (existing.soak ?? {}) as Record<string, unknown>;
const figures = { ...previous, date: new Date().toISOString(), environment, options: values, ...soak, problems };
writeFileSync(out, `${JSON.stringify({ ...existing, soak: figures }, null, 2)}\n`);
console.log(JSON.stringify({ soak, problems }, null, 2));
console.log(`Soak figures written to ${out} (key "soak")`);
process.exitCode = problems.length > 0 ? 1 : 0;
