/**
 * A soak server in a process of its own, so its memory is measured without the clients': started
 * by `forkSoakServer` with the server kind as argument, it reports its port, then answers
 * `stats` (with heap and RSS after a full GC) and `close` messages over the IPC channel.
 */
import '../../lib/platform/node.js';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSoakServer, type SoakServerKind, type SoakServerStats } from './servers.js';

/** Counters plus the process's memory after a full GC. */
export interface ProcessStats extends SoakServerStats {
  heapUsed: number;
  rss: number;
}

type Request = { id: number; kind: 'stats' | 'close' };

/** A forked soak server. */
export interface ForkedSoakServer {
  readonly port: number;
  readonly hostKeyBlob: Uint8Array;
  stats(): Promise<ProcessStats>;
  close(): Promise<void>;
}

/**
 * A soak server in this process, with the same face as a forked one (its memory figures are
 * then the whole process's): for the shortened soak in the specs.
 */
export async function localSoakServer(kind: SoakServerKind): Promise<ForkedSoakServer> {
  const server = await startSoakServer(kind);
  return {
    port: server.port,
    hostKeyBlob: server.hostKeyBlob,
    stats: async () => {
      const memory = process.memoryUsage();
      return { ...structuredClone(server.stats()), heapUsed: memory.heapUsed, rss: memory.rss };
    },
    close: () => server.close(),
  };
}

/** Forks this module as a server of `kind` and waits for its port. */
export async function forkSoakServer(kind: SoakServerKind): Promise<ForkedSoakServer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [kind], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  const ready = new Promise<{ port: number; hostKeyBlob: number[] }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`Soak server exited with ${code}`)));
    child.on('message', (message: { id?: number; port?: number; hostKeyBlob?: number[]; value?: unknown }) => {
      if (message.port !== undefined) resolve(message as { port: number; hostKeyBlob: number[] });
      else pending.get(message.id!)?.(message.value);
    });
  });
  const { port, hostKeyBlob } = await ready;
  const ask = (kind: Request['kind']): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, kind } satisfies Request);
    });
  return {
    port,
    hostKeyBlob: Uint8Array.from(hostKeyBlob),
    stats: () => ask('stats') as Promise<ProcessStats>,
    async close() {
      await ask('close');
      child.disconnect();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send !== undefined) {
  const server = await startSoakServer(process.argv[2] as SoakServerKind);
  process.on('message', (request: Request) => {
    if (request.kind === 'stats') {
      (globalThis as { gc?: () => void }).gc?.();
      const memory = process.memoryUsage();
      process.send!({ id: request.id, value: { ...server.stats(), heapUsed: memory.heapUsed, rss: memory.rss } });
    } else {
      void server.close().finally(() => process.send!({ id: request.id, value: true }));
    }
  });
  process.send({ port: server.port, hostKeyBlob: [...server.hostKeyBlob] });
}
