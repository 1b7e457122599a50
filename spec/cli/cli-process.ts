/**
 * The compiled `ssh-streams` command line as a child process for specs: `serve` started and read
 * until it prints where it listens, `connect` run to completion. Both run without a controlling
 * terminal (a new session), so a prompt can never wait for a user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH } from '../helpers/built-package.js';

/** How a run ended. */
export interface CliResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `ssh-streams` process. */
export interface CliProcess {
  child: ChildProcess;
  result: Promise<CliResult>;
  output(): { stdout: string; stderr: string };
}

/**
 * Starts `node <cli> ...args`.
 * @param options `program` runs another entry (an installed bin); `input` is written to stdin, then closed
 */
export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; program?: string[] } = {}): CliProcess {
  const [file, ...before] = options.program ?? [process.execPath, CLI_PATH];
  const child = spawn(file!, [...before, ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdin!.end(options.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
  });
  return { child, result, output: () => ({ stdout, stderr }) };
}

/**
 * Runs `ssh-streams ...args` to its end, killing it after `timeoutMs`.
 * @returns its exit status and output
 */
export async function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; program?: string[]; input?: string; cwd?: string } = {},
): Promise<CliResult> {
  const run = startCli(args, options);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    return await run.result;
  } finally {
    clearTimeout(timer);
  }
}

/** A running `ssh-streams serve`. */
export interface ServeProcess {
  port: number;
  /** Everything it printed so far. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then its exit status. */
  stop(): Promise<CliResult>;
}

/**
 * Starts `ssh-streams serve --port 0 ...args` and waits for its "listening on" line.
 * @throws Error with the output when it exits or stays silent for `timeoutMs`
 */
export async function startServe(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; program?: string[]; timeoutMs?: number; cwd?: string } = {},
): Promise<ServeProcess> {
  const run = startCli(['serve', '--port', '0', ...args], options);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let exited = false;
  void run.result.then(() => (exited = true));
  for (;;) {
    const match = /listening on [^\s]+:(\d+)/.exec(run.output().stdout);
    if (match !== null) {
      return {
        port: Number(match[1]),
        output: run.output,
        stop: async () => {
          // The whole group: npx runs the bin as a child of its own.
          try {
            process.kill(-run.child.pid!, 'SIGTERM');
          } catch {
            // Already gone.
          }
          return run.result;
        },
      };
    }
    if (exited || Date.now() > deadline) {
      run.child.kill('SIGKILL');
      const { stdout, stderr } = run.output();
      throw new Error(`ssh-streams serve did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
