/**
 * Benchmark subjects in child processes of their own: each library runs as an application would,
 * alone in its process, so the collector's schedule of one never follows what another loaded or
 * left behind (in one shared process that moved rows by a third between runs). The parent sends
 * requests over the IPC channel and gets `{ result }` or `{ error }` back, one at a time.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a child answers: its ready signal and each request's outcome. */
export type ChildReply = { result: unknown } | { error: string };

/** A running child: one request at a time. */
export interface BenchChild {
  request<T>(message: object): Promise<T>;
  close(): Promise<void>;
}

const here = fileURLToPath(import.meta.url);
const bundled: string[] = [];

/**
 * The script of child `name` (a file of bench/): the built sibling when running from dist, else
 * (the specs run the TypeScript sources) the source bundled once by esbuild into node_modules/.cache,
 * so that its package imports resolve.
 */
async function childScript(name: string): Promise<string> {
  if (here.endsWith('.js')) return join(dirname(here), `${name}.js`);
  const outfile = join(dirname(here), '..', 'node_modules', '.cache', 'ssh-streams-bench', `${name}-${process.pid}.mjs`);
  if (!existsSync(outfile)) {
    mkdirSync(dirname(outfile), { recursive: true });
    const { build } = await import('esbuild');
    await build({ entryPoints: [join(dirname(here), `${name}.ts`)], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'silent' });
    bundled.push(outfile);
  }
  return outfile;
}

/** Removes the scripts bundled for the specs. */
export function removeBundledChildren(): void {
  for (const file of bundled.splice(0)) rmSync(file, { force: true });
}

/** Starts child `name` with `args` and waits for its ready reply. */
export async function forkBenchChild(name: string, args: readonly string[]): Promise<BenchChild> {
  const child = fork(await childScript(name), [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`Benchmark child ${name} ${args[0] ?? ''} exited with ${code}`))));
  exited.catch(() => {});
  const reply = async <T>(): Promise<T> => {
    const m = await Promise.race([new Promise<ChildReply>((resolve) => child.once('message', (r) => resolve(r as ChildReply))), exited]);
    if ('error' in m) throw new Error(`Benchmark child ${name} ${args[0] ?? ''}: ${m.error}`);
    return m.result as T;
  };
  await reply();
  return {
    request<T>(message: object): Promise<T> {
      child.send(message);
      return reply<T>();
    },
    async close() {
      child.send({ close: true });
      await exited.catch(() => {});
    },
  };
}

/**
 * The child side: runs `start`, answers ready, then answers each request with `handle`;
 * `{ close: true }` runs `close` and exits.
 */
export function serveBenchChild<R extends object>(start: () => Promise<{ handle(request: R): Promise<unknown>; close(): Promise<void> }>): void {
  const send = (reply: ChildReply): void => void process.send!(reply);
  const message = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));
  start().then(
    (subject) => {
      send({ result: null });
      process.on('message', (request: R | { close: true }) => {
        if ('close' in request) return void subject.close().finally(() => process.exit(0));
        subject.handle(request).then(
          (result) => send({ result: result ?? null }),
          (error: unknown) => send({ error: message(error) }),
        );
      });
    },
    (error: unknown) => {
      send({ error: message(error) });
      process.exit(1);
    },
  );
}
