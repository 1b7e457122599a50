/**
 * Soak (b): `sessions` sessions with `channels` channels each, every channel writing without
 * pause to a forked ssh-streams server for `minutes`. Each minute (or `sampleSeconds`) records
 * the server's received throughput and its heap after a full GC, so a steady rate and a flat heap
 * can be read off (minute 2 against the last). At the end the writers stop, send EOF, and every
 * byte a client wrote must have reached the server, with no error on either side.
 */
import type { ClientSession } from '../../lib/client-session.js';
import { forkSoakServer, localSoakServer } from './server-process.js';
import { SoakWriter, openSoakSession } from './client.js';

/** One sample. */
export interface DataSample {
  atSeconds: number;
  serverMBps: number;
  serverHeapMiB: number;
  serverRssMiB: number;
  clientHeapMiB: number;
}

/** Figures of soak (b). */
export interface DataSoakResult {
  sessions: number;
  channelsPerSession: number;
  seconds: number;
  samples: DataSample[];
  bytesSent: number;
  bytesReceived: number;
  /** Sessions and channels the server still held after every client closed. */
  leftOpen: { sessions: number; channels: number };
  /** Server heap growth from the second sample to the last, MiB. */
  heapGrowthMiB: number;
  errors: number;
  errorMessages: string[];
}

const MiB = 1024 * 1024;
const round = (n: number): number => Math.round(n * 10) / 10;

/** Runs soak (b). */
export async function runDataSoak(options: {
  sessions: number;
  channels: number;
  seconds: number;
  sampleSeconds?: number;
  /** Run the server in this process (the shortened soak of the specs). */
  inProcess?: boolean;
  log?: (line: string) => void;
}): Promise<DataSoakResult> {
  const sampleSeconds = options.sampleSeconds ?? 60;
  const server = options.inProcess ? await localSoakServer('ssh-streams') : await forkSoakServer('ssh-streams');
  const sessions: ClientSession[] = [];
  const writers: SoakWriter[] = [];
  const clientErrors: string[] = [];
  try {
    // Every session is open before data flows: handshakes behind saturated links only measure the load.
    const channels = [];
    for (let s = 0; s < options.sessions; s++) {
      const opened = await openSoakSession(server.port, server.hostKeyBlob, options.channels);
      sessions.push(opened.session);
      opened.session.closed.catch((error: unknown) => clientErrors.push(String(error)));
      channels.push(...opened.channels);
    }
    options.log?.(`data soak: ${options.sessions} sessions with ${options.channels} channels each open`);
    channels.forEach((channel, i) => writers.push(new SoakWriter(channel.writable, i)));
    for (const writer of writers) writer.done.catch((error: unknown) => clientErrors.push(String(error)));
    const samples: DataSample[] = [];
    const started = performance.now();
    let lastBytes = (await server.stats()).bytesReceived;
    let lastAt = started;
    while (performance.now() - started < options.seconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(sampleSeconds * 1000, options.seconds * 1000 - (performance.now() - started))));
      const stats = await server.stats();
      const now = performance.now();
      (globalThis as { gc?: () => void }).gc?.();
      const sample: DataSample = {
        atSeconds: Math.round((now - started) / 1000),
        serverMBps: round((stats.bytesReceived - lastBytes) / ((now - lastAt) / 1000) / 1e6),
        serverHeapMiB: round(stats.heapUsed / MiB),
        serverRssMiB: round(stats.rss / MiB),
        clientHeapMiB: round(process.memoryUsage().heapUsed / MiB),
      };
      samples.push(sample);
      options.log?.(`data soak ${sample.atSeconds}s: ${sample.serverMBps} MB/s, server heap ${sample.serverHeapMiB} MiB, rss ${sample.serverRssMiB} MiB`);
      lastBytes = stats.bytesReceived;
      lastAt = now;
    }
    for (const writer of writers) writer.stop();
    await Promise.allSettled(writers.map((w) => w.done));
    const bytesSent = writers.reduce((sum, w) => sum + w.bytes, 0);
    let stats = await server.stats();
    for (let i = 0; i < 100 && stats.bytesReceived < bytesSent; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stats = await server.stats();
    }
    await Promise.all(sessions.map((s) => s.close()));
    stats = await server.stats();
    for (let i = 0; i < 50 && (stats.sessionsOpen > 0 || stats.channelsOpen > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stats = await server.stats();
    }
    const second = samples[Math.min(1, samples.length - 1)]!;
    return {
      sessions: options.sessions,
      channelsPerSession: options.channels,
      seconds: options.seconds,
      samples,
      bytesSent,
      bytesReceived: stats.bytesReceived,
      leftOpen: { sessions: stats.sessionsOpen, channels: stats.channelsOpen },
      heapGrowthMiB: round(samples[samples.length - 1]!.serverHeapMiB - second.serverHeapMiB),
      errors: stats.errors + clientErrors.length,
      errorMessages: [...stats.errorMessages, ...clientErrors].slice(0, 20),
    };
  } finally {
    await Promise.allSettled(sessions.map((s) => s.close()));
    await server.close();
  }
}
