/**
 * Soak (a): `sessions` concurrent sessions on one server process, each with an open channel.
 * Measures handshakes per second while they are opened (`concurrency` at a time: TCP connect,
 * key exchange, password authentication, channel open and exec) and the server process's heap and
 * RSS per session once all are open (after a full GC), then closes them and checks the server let
 * every one go.
 */
import type { ClientSession } from '../../lib/client-session.js';
import type { SoakServerKind } from './servers.js';
import { forkSoakServer, localSoakServer } from './server-process.js';
import { openSoakSession } from './client.js';

/** Figures of one server. */
export interface ConcurrentResult {
  server: SoakServerKind;
  sessions: number;
  concurrency: number;
  handshakesPerSecond: number;
  heapPerSessionKiB: number;
  rssPerSessionKiB: number;
  serverHeapMiB: number;
  serverRssMiB: number;
  /** Sessions and channels the server still held after every client closed. */
  leftOpen: { sessions: number; channels: number };
  errors: number;
}

const KiB = 1024;
const MiB = 1024 * 1024;

/** Runs soak (a) against a server of `kind`, forked unless `inProcess`. */
export async function runConcurrentSoak(kind: SoakServerKind, sessions: number, options: { concurrency?: number; inProcess?: boolean } = {}): Promise<ConcurrentResult> {
  const concurrency = options.concurrency ?? 25;
  const server = options.inProcess ? await localSoakServer(kind) : await forkSoakServer(kind);
  try {
    const before = await server.stats();
    const open: ClientSession[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < sessions) {
          next++;
          open.push((await openSoakSession(server.port, server.hostKeyBlob)).session);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const during = await server.stats();
    if (during.channelsOpen !== sessions) throw new Error(`${kind}: ${during.channelsOpen} channels open on the server, expected ${sessions}`);
    await Promise.all(open.map((s) => s.close()));
    let after = await server.stats();
    for (let i = 0; i < 50 && (after.sessionsOpen > 0 || after.channelsOpen > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await server.stats();
    }
    return {
      server: kind,
      sessions,
      concurrency,
      handshakesPerSecond: Math.round((sessions / seconds) * 10) / 10,
      heapPerSessionKiB: Math.round((during.heapUsed - before.heapUsed) / sessions / KiB),
      rssPerSessionKiB: Math.round((during.rss - before.rss) / sessions / KiB),
      serverHeapMiB: Math.round(during.heapUsed / MiB),
      serverRssMiB: Math.round(during.rss / MiB),
      leftOpen: { sessions: after.sessionsOpen, channels: after.channelsOpen },
      errors: after.errors,
    };
  } finally {
    await server.close();
  }
}
