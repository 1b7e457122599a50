/**
 * Pseudo-terminals for `serveExec` (RFC 4254 §6.2 pty-req, §6.7 window-change, §6.9 signal, §8
 * modes) through the optional peer dependency node-pty. node-pty is imported on the first pty-req
 * and never before, so installs without it keep working: pty-req is then refused (and the process
 * told so once, by a warning) and commands run on pipes as before. Owns one channel's terminal and
 * its process; which request does what stays in exec.ts.
 */
import type * as OsModule from 'node:os';
import type { Channel } from '../mux/channel.js';
import type { PtyOptions, WindowSize } from '../codec/messages/session-requests.js';
import { terminalModesToStty } from './terminal-modes.js';

/** A disposable listener registration, as node-pty returns them. */
export interface PtyDisposable {
  dispose(): void;
}

/** The part of a node-pty terminal that `serveExec` uses. */
export interface PtyProcess {
  readonly pid: number;
  onData(listener: (data: Uint8Array | string) => void): PtyDisposable;
  onExit(listener: (event: { exitCode: number; signal?: number }) => void): PtyDisposable;
  write(data: Uint8Array | string): void;
  resize(columns: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

/** How `serveExec` asks node-pty for a terminal (node-pty's `IPtyForkOptions`, the fields used). */
export interface PtySpawnOptions {
  name: string;
  cols: number;
  rows: number;
  cwd?: string;
  env: Record<string, string>;
  /** null: data arrives as bytes, never decoded. */
  encoding: null;
}

/** The part of the node-pty module that `serveExec` uses: its `spawn`. */
export interface PtyModule {
  spawn(file: string, args: string[], options: PtySpawnOptions): PtyProcess;
}

/** The terminal options of `serveExec` (part of `ExecOptions`). */
export interface TerminalServeOptions {
  /** Whether pty-req may give a pseudo-terminal (needs node-pty); default true. */
  allowPty?: boolean;
  /**
   * Loads node-pty; default `import('node-pty')`, once per process. A loader that rejects means
   * "not installed": pty-req is refused and a `shell` runs on pipes.
   */
  loadPty?: () => Promise<PtyModule>;
  /**
   * The program a `shell` request runs, as a login shell (`-l`); default the login shell of the
   * user running the server (the password database), else `$SHELL`, else `/bin/sh`.
   */
  loginShell?: string;
}

/** What to run in the terminal. */
export interface PtyCommand {
  file: string;
  args: string[];
  cwd?: string;
  env: Record<string, string | undefined>;
}

// Variables, not literals, so that bundlers leave these Node-only modules alone (a browser build
// imports this file through serveExec, which fails there before any of them is needed).
const NODE_PTY = 'node-pty';
const NODE_OS = 'node:os';
let nodeOs: Promise<typeof OsModule> | undefined;
const os = (): Promise<typeof OsModule> => (nodeOs ??= import(NODE_OS) as Promise<typeof OsModule>);
let nodePty: Promise<PtyModule> | undefined;
let warned = false;
const noop = (): void => {};

/** The default loader: `import('node-pty')`, whose CommonJS exports arrive as `default` too. */
function importNodePty(): Promise<PtyModule> {
  nodePty ??= (async () => {
    const loaded = (await import(NODE_PTY)) as Partial<PtyModule> & { default?: Partial<PtyModule> };
    const spawn = loaded.spawn ?? loaded.default?.spawn;
    if (typeof spawn !== 'function') throw new TypeError(`${NODE_PTY} has no spawn function`);
    return { spawn };
  })();
  return nodePty;
}

/** Says once per process that terminals are off, and why. */
function warnNoPty(error: unknown): void {
  if (warned) return;
  warned = true;
  const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
  process.emitWarning(
    `node-pty could not be loaded (${why}): serveExec refuses pty-req and runs shells on pipes; ` +
      'install the optional peer dependency node-pty for pseudo-terminals',
    { code: 'SSH_STREAMS_NO_PTY' },
  );
}

/**
 * The login shell and its argument for a `shell` request (RFC 4254 §6.5: "the user's default shell").
 * @returns `[file, ['-l']]`
 */
export async function loginShellCommand(options: TerminalServeOptions): Promise<[string, string[]]> {
  let shell = options.loginShell;
  if (shell === undefined) {
    try {
      shell = (await os()).userInfo().shell ?? undefined;
    } catch {
      // No password database entry for this uid (some containers): fall back below.
    }
  }
  return [shell || process.env.SHELL || '/bin/sh', ['-l']];
}

/** RFC 4254 §6.10: a signal number as its name without "SIG", or undefined when not a signal. */
function signalName(signals: Record<string, number>, signal: number | undefined): string | undefined {
  if (!signal) return undefined;
  const name = Object.entries(signals).find(([, number]) => number === signal)?.[0];
  return name?.replace(/^SIG/, '') ?? String(signal);
}

/** Variables that describe the server's own terminal, not the client's. */
const SERVER_TERMINAL_VARIABLES = ['COLUMNS', 'LINES', 'TERMCAP', 'TMUX', 'TMUX_PANE', 'STY', 'WINDOW', 'WINDOWID'];

/** One channel's pseudo-terminal: the pty-req it accepted and, once started, the process in it. */
export class ChannelPty {
  readonly #options: TerminalServeOptions;
  #module: PtyModule | undefined;
  /** Signal numbers by name (node:os constants), loaded with node-pty. */
  #signals: Record<string, number> = {};
  #request: Required<PtyOptions> | undefined;
  #process: PtyProcess | undefined;
  #exited = false;

  constructor(options: TerminalServeOptions) {
    this.#options = options;
  }

  /** True once a pty-req was accepted: exec and shell then run in the terminal. */
  get isRequested(): boolean {
    return this.#request !== undefined;
  }

  /** True once a process was started in the terminal. */
  get isStarted(): boolean {
    return this.#process !== undefined;
  }

  /**
   * RFC 4254 §6.2: accepts the request when node-pty loads; a second pty-req replaces the first.
   * @returns false when terminals are off or node-pty is missing
   */
  async request(pty: Required<PtyOptions>): Promise<boolean> {
    if (this.#options.allowPty === false || this.#process !== undefined) return false;
    try {
      this.#module ??= await (this.#options.loadPty ?? importNodePty)();
      this.#signals = (await os()).constants.signals;
    } catch (error) {
      warnNoPty(error);
      return false;
    }
    this.#request = pty;
    return true;
  }

  /** RFC 4254 §6.7: resizes the running terminal, or the one still to start. */
  resize(size: Required<WindowSize>): boolean {
    if (this.#request === undefined || size.columns === 0 || size.rows === 0) return false;
    this.#request = { ...this.#request, ...size };
    if (this.#process !== undefined && !this.#exited) this.#process.resize(size.columns, size.rows);
    return true;
  }

  /**
   * RFC 4254 §6.9: sends `SIG<name>` to the process in the terminal.
   * @returns false for an unknown signal or when no process runs
   */
  signal(name: string): boolean {
    const signal = `SIG${name}`;
    if (this.#process === undefined || this.#exited || !(signal in this.#signals)) return false;
    try {
      process.kill(this.#process.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Runs `command` in the requested terminal and wires it to `channel`: terminal output becomes
   * channel data (pausing the terminal while the channel has no window), channel data is typed
   * into it, and its exit becomes exit-status or exit-signal, then CLOSE.
   * @param ended called once the process exited
   * @returns false when the terminal could not be started
   */
  start(channel: Channel, command: PtyCommand, ended: () => void = noop): boolean {
    const pty = this.#request!;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(command.env)) if (value !== undefined) env[name] = value;
    for (const name of SERVER_TERMINAL_VARIABLES) delete env[name];
    env.TERM = pty.term || 'dumb';
    // node-pty cannot set the client's modes; stty can, on the new terminal, before the command
    // replaces the shell (same pid, so signals and the exit status are the command's).
    const modes = terminalModesToStty(pty.modes);
    const [file, args] =
      modes.length === 0
        ? [command.file, command.args]
        : ['/bin/sh', ['-c', `stty ${modes.join(' ')} 2>/dev/null; exec "$0" "$@"`, command.file, ...command.args]];
    let terminal: PtyProcess;
    try {
      terminal = this.#module!.spawn(file, args, {
        name: env.TERM,
        cols: pty.columns || 80,
        rows: pty.rows || 24,
        cwd: command.cwd,
        env,
        encoding: null,
      });
    } catch {
      return false;
    }
    this.#process = terminal;
    terminal.onExit(ended);
    this.#wire(channel, terminal);
    return true;
  }

  #wire(channel: Channel, terminal: PtyProcess): void {
    const writer = channel.writable.getWriter();
    let written: Promise<void> = Promise.resolve();
    terminal.onData((data) => {
      written = writer.write(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      written.catch(noop);
      if ((writer.desiredSize ?? 0) <= 0) {
        terminal.pause();
        writer.ready.then(() => terminal.resume(), noop);
      }
    });
    // node-pty reports the exit only after the terminal's output was read to its end.
    terminal.onExit(({ exitCode, signal }) => {
      this.#exited = true;
      void (async () => {
        await written.catch(noop);
        await writer.close().catch(noop);
        const exitSignal = signalName(this.#signals, signal);
        await channel.close(exitSignal !== undefined ? { exitSignal } : { exitStatus: exitCode });
      })();
    });
    void typeInto(channel.readable, terminal, () => this.#exited).catch(noop);
    void channel.closed.then(() => {
      if (!this.#exited) terminal.kill('SIGHUP');
    });
  }
}

/**
 * Copies channel data into the terminal. node-pty queues writes and gives no signal when its
 * queue drains, so input is not held back while the program in the terminal does not read.
 */
async function typeInto(source: ReadableStream<Uint8Array>, terminal: PtyProcess, exited: () => boolean): Promise<void> {
  const reader = source.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || exited()) return;
      terminal.write(value);
    }
  } finally {
    reader.releaseLock();
  }
}
