/**
 * The client side of an interactive session (RFC 4254 §6.2, §6.5, §6.7): attaches a local terminal
 * to a session channel as `ssh` does. Puts the local tty in raw mode (so keys, Ctrl-C included,
 * travel as bytes to the remote terminal), sends pty-req with the local TERM and size, forwards
 * size changes as window-change, pipes stdin and stdout with backpressure on both sides, and puts
 * the tty back as it was however the session ends. Node-only (node:tty streams and signals).
 */
import type { Readable, Writable } from 'node:stream';
import { SshError } from '../errors.js';
import type { Channel } from '../mux/channel.js';
import type { ChannelCloseInfo } from '../mux/channel-types.js';
import type { TerminalModes } from '../codec/messages/session-requests.js';

/** The local input: `process.stdin` or any Readable; tty methods are used when present. */
export type TerminalInput = Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?(mode: boolean): unknown };

/** The local output: `process.stdout` or any Writable; a tty's size and `resize` event are used when present. */
export type TerminalOutput = Writable & { isTTY?: boolean; columns?: number; rows?: number };

/** Options of {@link attachTerminal}. */
export interface AttachTerminalOptions {
  stdin: TerminalInput;
  stdout: TerminalOutput;
  /** Where the remote stderr goes (extended data 1; a remote terminal merges it already); default `stdout`. */
  stderr?: Writable;
  /** Runs this command (exec) instead of the login shell (shell). */
  command?: string;
  /**
   * Whether to ask for a remote terminal: true like `ssh -t`, false like `ssh -T`; default when
   * stdin is a tty.
   */
  pty?: boolean;
  /** The TERM sent in pty-req; default `$TERM`, else `xterm-256color`. */
  term?: string;
  /** RFC 4254 §8 modes sent in pty-req, over the defaults (VERASE DEL, IUTF8 on). */
  modes?: TerminalModes;
  /** Variables sent as env requests before the command (servers accept only some, OpenSSH AcceptEnv). */
  env?: Record<string, string>;
}

/** Signals that end this process by default: the tty is restored before they take effect. */
const ENDING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** RFC 4254 §8: VERASE = DEL as terminals send it, IUTF8 (RFC 8160) so erase handles UTF-8. */
const DEFAULT_MODES: TerminalModes = { 3: 0x7f, 42: 1 };

/**
 * Attaches a local terminal to a session channel: raw mode, pty-req with the local TERM and size,
 * SIGWINCH (the stdout `resize` event) as window-change, stdin and stdout piped with backpressure,
 * then the login shell or `command`. The tty is restored when the channel closes, when anything
 * throws, and before a SIGINT/SIGTERM/SIGHUP/SIGQUIT ends the process.
 * @param channel a session channel, open and with no request sent yet
 * @returns how the channel ended: `exitStatus`, or `exitSignal` when the command was killed
 * @throws SshError when the server refuses the shell or the command
 * @example const { exitStatus } = await attachTerminal(await client.openChannel(), { stdin: process.stdin, stdout: process.stdout });
 */
export async function attachTerminal(channel: Channel, options: AttachTerminalOptions): Promise<ChannelCloseInfo> {
  const { stdin, stdout } = options;
  const tty = new LocalTty(stdin);
  const cleanups: (() => void)[] = [() => tty.restore()];
  const cleanup = (): void => {
    for (const step of cleanups.splice(0).reverse()) step();
  };
  try {
    for (const [name, value] of Object.entries(options.env ?? {})) await channel.setEnv(name, value);
    if (options.pty ?? stdin.isTTY === true) {
      const size = { columns: stdout.columns || 80, rows: stdout.rows || 24 };
      const term = options.term ?? (process.env.TERM || 'xterm-256color');
      // A refused pty-req is not fatal (OpenSSH goes on without a terminal); raw mode then would
      // leave the user without echo, so it follows a granted terminal only.
      if (await channel.requestPty({ term, ...size, modes: { ...DEFAULT_MODES, ...options.modes } })) tty.raw();
      cleanups.push(watchResize(channel, stdout));
    }
    cleanups.push(restoreOnSignals(tty, channel), restoreOnExit(tty));
    const input = pipeInput(stdin, channel);
    cleanups.push(input);
    const output = Promise.all([pipeOutput(channel.readable, stdout), pipeOutput(channel.stderr, options.stderr ?? stdout)]);
    const started = options.command === undefined ? await channel.shell() : await channel.exec(options.command);
    if (!started) {
      await channel.close();
      throw new SshError(options.command === undefined ? 'Server refused the shell request' : `Server refused to run ${JSON.stringify(options.command)}`);
    }
    await output;
    return await channel.closed;
  } finally {
    cleanup();
  }
}

/** The local tty's raw mode, switched on once and put back as it was. */
class LocalTty {
  readonly #stdin: TerminalInput;
  #wasRaw: boolean | undefined;

  constructor(stdin: TerminalInput) {
    this.#stdin = stdin;
  }

  raw(): void {
    if (this.#stdin.isTTY !== true || this.#stdin.setRawMode === undefined || this.#wasRaw !== undefined) return;
    this.#wasRaw = this.#stdin.isRaw === true;
    this.#stdin.setRawMode(true);
  }

  /** Synchronous, so it can run in an 'exit' handler. Idempotent. */
  restore(): void {
    if (this.#wasRaw === undefined) return;
    try {
      this.#stdin.setRawMode?.(this.#wasRaw);
    } catch {
      // The tty is gone (hung up): nothing left to restore.
    }
    this.#wasRaw = undefined;
  }
}

/** RFC 4254 §6.7: the stdout `resize` event (Node's SIGWINCH handler) becomes window-change. */
function watchResize(channel: Channel, stdout: TerminalOutput): () => void {
  const onResize = (): void => {
    if (!stdout.columns || !stdout.rows) return;
    channel.resizePty({ columns: stdout.columns, rows: stdout.rows }).catch(() => {});
  };
  stdout.on('resize', onResize);
  return () => stdout.off('resize', onResize);
}

/**
 * Restores the tty before a signal that would end the process. When nobody else listens, the
 * signal is raised again without our handler so the process ends as it would have.
 */
function restoreOnSignals(tty: LocalTty, channel: Channel): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const remove = (): void => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    handlers.clear();
  };
  for (const signal of ENDING_SIGNALS) {
    const handler = (): void => {
      tty.restore();
      void channel.close().catch(() => {});
      const othersListen = process.listenerCount(signal) > 1;
      remove();
      if (!othersListen) process.kill(process.pid, signal);
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return remove;
}

/** Restores the tty if the process exits while attached (process.exit() from elsewhere). */
function restoreOnExit(tty: LocalTty): () => void {
  const onExit = (): void => tty.restore();
  process.on('exit', onExit);
  return () => process.off('exit', onExit);
}

/**
 * Local input to channel data: stdin is paused while the channel has no window. Its end (a pipe,
 * not a raw tty, where Ctrl-D is a byte) becomes EOF.
 * @returns the detach step: stops reading stdin and leaves it paused
 */
function pipeInput(stdin: TerminalInput, channel: Channel): () => void {
  const writer = channel.writable.getWriter();
  const ignore = (): void => {};
  const onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    writer.write(bytes).catch(ignore);
    if ((writer.desiredSize ?? 0) <= 0) {
      stdin.pause();
      writer.ready.then(() => attached && stdin.resume(), ignore);
    }
  };
  const onEnd = (): void => void writer.close().catch(ignore);
  let attached = true;
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.resume();
  return () => {
    attached = false;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    writer.releaseLock();
  };
}

/** Channel data to a local stream, waiting for 'drain' when its buffer is full. */
async function pipeOutput(source: ReadableStream<Uint8Array>, sink: Writable): Promise<void> {
  const reader = source.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (sink.destroyed || sink.writableEnded) return void (await reader.cancel());
      if (!sink.write(value)) await drained(sink);
    }
  } catch {
    // The channel ended with an error (session lost); `closed` tells how.
  } finally {
    reader.releaseLock();
  }
}

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
function drained(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}
