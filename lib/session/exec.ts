/**
 * Server-side exec and shell (RFC 4254 §6.5), opt-in: a channel request handler that runs the
 * command of an `exec` request (or the shell for `shell`) through node:child_process and wires the
 * channel to it (data -> stdin, stdout -> data, stderr -> extended data 1, exit -> exit-status or
 * exit-signal, then CLOSE). Also handles env (§6.4) and signal (§6.9) for that process. With the
 * optional node-pty installed, pty-req (§6.2) and window-change (§6.7) give the command or shell a
 * pseudo-terminal (pty.ts); without it pty-req is refused and a shell has no prompt or line editing.
 * What a peer can make it hold is capped: env entries (count and bytes per channel) and commands
 * running at once per session (OpenSSH's MaxSessions); requests past a cap get CHANNEL_FAILURE.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Channel } from '../mux/channel.js';
import { agentChannelType } from '../mux/connection.js';
import { listenForwardedAgent } from '../agent/forwarding.js';
import type { AgentSocket } from '../agent/socket-backend.js';
import { childProcess, requireChildProcess } from './process-backend.js';
import { ChannelPty, loginShellCommand, type TerminalServeOptions } from './pty.js';

/** Options of `serveExec`. */
export interface ExecOptions extends TerminalServeOptions {
  /** Shell that runs the command as `shell -c command`; default `/bin/sh`. */
  shell?: string;
  /** Working directory of the command; default the server's. */
  cwd?: string;
  /** Base environment; default the server's `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Which env requests are honoured (OpenSSH AcceptEnv); default `LANG` and `LC_*`. */
  acceptEnv?: (name: string) => boolean;
  /** Whether a command may run; default every command. */
  authorize?: (command: string) => boolean | Promise<boolean>;
  /** Whether a `shell` request starts the login shell; default true. */
  allowShell?: boolean;
  /**
   * Whether `auth-agent-req@openssh.com` (`ssh -A`) is honoured: the command then gets an
   * `SSH_AUTH_SOCK` reaching the client's agent, removed when the channel closes. Default true.
   */
  allowAgentForwarding?: boolean;
  /** Most env entries one channel may set (OpenSSH ignores past 128 as well); default 128. */
  maxEnvEntries?: number;
  /** Most bytes of env names and values one channel may set; default 64 KiB. */
  maxEnvBytes?: number;
  /**
   * Most commands and shells running at once in one session, counted across its channels (as
   * OpenSSH's MaxSessions bounds a connection); default 10.
   */
  maxCommandsPerSession?: number;
}

/** Defaults of the `ExecOptions` caps. */
const execLimits = { maxEnvEntries: 128, maxEnvBytes: 64 * 1024, maxCommandsPerSession: 10 } as const;

/** Commands running per session (keyed on `channel.session`). */
const running = new WeakMap<object, number>();

const noop = (): void => {};
const defaultAcceptEnv = (name: string): boolean => name === 'LANG' || name.startsWith('LC_');
const envSize = (name: string, value: string): number => Buffer.byteLength(name) + Buffer.byteLength(value);
/** A terminal's size is 16-bit (struct winsize); RFC 4254 §6.2 carries uint32, so larger is refused. */
const isTerminalSize = (size: { columns?: number; rows?: number }): boolean => (size.columns ?? 0) <= 0xffff && (size.rows ?? 0) <= 0xffff;

/**
 * Handles env, exec, shell and signal requests on `channel` by running one process per channel.
 * node:child_process is imported on first use.
 * @throws SshError where the runtime has no child processes (the browser build)
 * @example for await (const ch of server.channels) serveExec(ch, { authorize: (cmd) => cmd === 'uptime' });
 */
export function serveExec(channel: Channel, options: ExecOptions = {}): void {
  requireChildProcess('serveExec');
  const acceptEnv = options.acceptEnv ?? defaultAcceptEnv;
  const maxEnvEntries = options.maxEnvEntries ?? execLimits.maxEnvEntries;
  const maxEnvBytes = options.maxEnvBytes ?? execLimits.maxEnvBytes;
  const env = new Map<string, string>();
  let envBytes = 0;
  let child: ChildProcess | undefined;
  let agentSocket: AgentSocket | undefined;
  const pty = new ChannelPty(options);
  const started = (): boolean => child !== undefined || pty.isStarted;
  const start = async (command: string | undefined): Promise<boolean> => {
    const session = channel.session;
    const count = running.get(session) ?? 0;
    if (count >= (options.maxCommandsPerSession ?? execLimits.maxCommandsPerSession)) return false;
    running.set(session, count + 1);
    const ended = (): void => void running.set(session, (running.get(session) ?? 1) - 1);
    const runEnv = { ...(options.env ?? process.env), ...Object.fromEntries(env) };
    if (pty.isRequested) {
      const [file, args] = await commandLine(command, options);
      const ok = pty.start(channel, { file, args, cwd: options.cwd, env: runEnv }, ended);
      if (!ok) ended();
      return ok;
    }
    child = await run(channel, command, { ...options, env: runEnv });
    if (child === undefined) ended();
    else child.once('close', ended);
    return child !== undefined;
  };
  channel.onRequest = async (e) => {
    switch (e.requestType) {
      case 'env': {
        if (started() || !acceptEnv(e.name!)) return false;
        const bytes = envSize(e.name!, e.value!) - (env.has(e.name!) ? envSize(e.name!, env.get(e.name!)!) : 0);
        if ((!env.has(e.name!) && env.size >= maxEnvEntries) || envBytes + bytes > maxEnvBytes) return false;
        env.set(e.name!, e.value!);
        envBytes += bytes;
        return true;
      }
      case 'pty-req':
        return !started() && isTerminalSize(e.pty!) && (await pty.request(e.pty!));
      case 'window-change':
        return isTerminalSize(e.windowSize!) && pty.resize(e.windowSize!);
      case 'exec':
      case 'shell': {
        // PROTOCOL.certkeys force-command runs instead of what was asked (seen as SSH_ORIGINAL_COMMAND).
        const forced = (channel.session as { forcedCommand?: string }).forcedCommand;
        const command = forced ?? e.command;
        if (forced !== undefined && e.command !== undefined) env.set('SSH_ORIGINAL_COMMAND', e.command);
        if (started() || (command !== undefined && !(await (options.authorize?.(command) ?? true)))) return false;
        // RFC 4254 §6.5: the user's login shell, reading commands from the channel. Without a
        // pseudo-terminal this is what `ssh -T host` gets: no prompt, no line editing.
        if (command === undefined && options.allowShell === false) return false;
        return start(command);
      }
      case 'auth-agent-req@openssh.com': {
        // OpenSSH PROTOCOL §4.1: a private socket whose connections become agent channels to the client.
        const session = channel.session as { openChannel?: (channelType: string) => Promise<Channel> };
        if (agentSocket !== undefined || started() || options.allowAgentForwarding === false) return false;
        if (typeof session.openChannel !== 'function') return false;
        agentSocket = await listenForwardedAgent(() => session.openChannel!(agentChannelType));
        const socket = agentSocket;
        void channel.closed.then(() => socket.close(), () => socket.close());
        env.set('SSH_AUTH_SOCK', socket.path);
        return true;
      }
      case 'signal':
        if (pty.isStarted) return pty.signal(e.signal!);
        return child !== undefined && child.exitCode === null && child.kill(`SIG${e.signal}` as NodeJS.Signals);
      default:
        return false;
    }
  };
}

/** `shell -c command`, or the login shell for a `shell` request (command undefined). */
async function commandLine(command: string | undefined, options: ExecOptions): Promise<[string, string[]]> {
  return command === undefined ? loginShellCommand(options) : [options.shell ?? '/bin/sh', ['-c', command]];
}

/** Spawns `command` (or the login shell, reading stdin, when undefined) and wires it to the channel. */
async function run(channel: Channel, command: string | undefined, options: ExecOptions): Promise<ChildProcess | undefined> {
  const [file, args] = await commandLine(command, options);
  const { spawn } = await childProcess();
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: 'pipe' });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started) return undefined;
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (code, signal) => resolve([code, signal])),
  );
  // The command may exit without reading its input: EPIPE is expected, and the channel must not be
  // cancelled for it (cancel would close it before exit-status is sent).
  child.stdin!.on('error', noop);
  void pumpIn(channel.readable, child.stdin!).catch(noop);
  const stdout = pumpOut(child.stdout!, channel.writable).catch(noop);
  const stderr = pumpOut(child.stderr!, channel.stderrWritable).catch(noop);
  void channel.closed.then(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGHUP');
  });
  void (async () => {
    const [[code, signal]] = await Promise.all([exited, stdout, stderr]);
    await channel.close(signal !== null ? { exitSignal: signal.replace(/^SIG/, '') } : { exitStatus: code ?? 0 });
  })();
  return child;
}

/**
 * Copies a process output into a channel stream with backpressure. Written with readers and
 * writers rather than pipeTo so that it works whichever Web Streams implementation made the channel.
 */
async function pumpOut(source: Readable, sink: WritableStream<Uint8Array>): Promise<void> {
  const writer = sink.getWriter();
  try {
    for await (const chunk of source) await writer.write(chunk as Uint8Array);
    await writer.close();
  } finally {
    writer.releaseLock();
  }
}

/** Copies channel data into the process's stdin, waiting for 'drain' when its buffer is full. */
async function pumpIn(source: ReadableStream<Uint8Array>, sink: Writable): Promise<void> {
  const reader = source.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (sink.destroyed) return;
      if (!sink.write(value)) await drained(sink);
    }
    sink.end();
  } finally {
    reader.releaseLock();
  }
}

/** Resolves on the sink's 'drain' or 'close', whichever comes first, leaving no listener behind. */
function drained(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sink.off('drain', done).off('close', done);
      resolve();
    };
    sink.on('drain', done).on('close', done);
  });
}
