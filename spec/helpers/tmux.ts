/**
 * A real terminal for specs: a detached tmux session on its own server socket, running one command
 * in a pane of a chosen size. Keys are typed with `send-keys`, the screen is read with
 * `capture-pane`, the size changed with `resize-window`, and the pane stays after its command
 * exits, showing its exit status.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's tmux package installs it. */
export const TMUX_PATH = '/usr/bin/tmux';

/**
 * Whether a spec that needs tmux skips: only outside CI. Use as `describe.skipIf(skipWithoutTmux())`.
 * @returns true to skip (tmux missing, not under CI)
 * @throws Error when tmux is missing under CI, so the spec file fails loudly
 */
export function skipWithoutTmux(): boolean {
  if (existsSync(TMUX_PATH)) return false;
  const ci = process.env.CI?.trim().toLowerCase();
  if (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') {
    throw new Error(`Terminal specs must run under CI but ${TMUX_PATH} is missing; install tmux (.ci/run does)`);
  }
  return true;
}

/** Options of {@link TmuxPane.start}. */
export interface TmuxPaneOptions {
  /** The shell command the pane runs. */
  command: string;
  columns: number;
  rows: number;
  /** Environment of the command (tmux passes its own environment to the pane). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** One pane of a private tmux server. */
export class TmuxPane {
  readonly #socket: string;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    this.#socket = join(dir, 'tmux.sock');
  }

  /**
   * Starts a tmux server with one session whose single pane runs `command`.
   * @returns the pane
   */
  static start(options: TmuxPaneOptions): TmuxPane {
    const pane = new TmuxPane(mkdtempSync(join(tmpdir(), 'ssh-streams-tmux-')));
    const env = { ...(options.env ?? process.env) };
    delete env.TMUX;
    delete env.TMUX_PANE;
    // The pane stays after its command. The status is printed rather than read from tmux's
    // pane_dead_status, which tmux 3.3 leaves empty when the command exits with the terminal raw.
    const size = ['-x', String(options.columns), '-y', String(options.rows)];
    const command = `${options.command}; printf '\\n[pane exit %d]\\n' "$?"`;
    pane.#tmux(
      ['-f', '/dev/null', 'start-server', ';', 'set-option', '-g', 'remain-on-exit', 'on', ';', 'new-session', '-d', '-s', 'spec', ...size, command],
      { env, cwd: options.cwd },
    );
    return pane;
  }

  #tmux(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
    return execFileSync(TMUX_PATH, ['-S', this.#socket, ...args], { encoding: 'utf8', env: options.env, cwd: options.cwd });
  }

  /** Types `text` literally (no key names). */
  type(text: string): void {
    this.#tmux(['send-keys', '-t', 'spec', '-l', text]);
  }

  /** Presses named keys, e.g. `Enter`, `C-c`. */
  press(...keys: string[]): void {
    this.#tmux(['send-keys', '-t', 'spec', ...keys]);
  }

  /**
   * The pane's text from the start of its history to the bottom of the screen (a line scrolled off
   * the top still counts), lines joined with \n, trailing blanks trimmed.
   */
  screen(): string {
    return this.#tmux(['capture-pane', '-p', '-S', '-', '-t', 'spec']).replace(/\s+$/, '');
  }

  /** Changes the window (and so the pane) size; the program in the pane gets SIGWINCH. */
  resize(columns: number, rows: number): void {
    this.#tmux(['resize-window', '-t', 'spec', '-x', String(columns), '-y', String(rows)]);
  }

  /** The pane's size as tmux sees it. */
  size(): { columns: number; rows: number } {
    const [columns, rows] = this.#tmux(['display-message', '-p', '-t', 'spec', '#{pane_width} #{pane_height}']).trim().split(' ');
    return { columns: Number(columns), rows: Number(rows) };
  }

  /** The exit status of the pane's command once it exited, else undefined. */
  exitStatus(): number | undefined {
    const match = this.screen().match(/^\[pane exit (\d+)\]$/m);
    return match === null ? undefined : Number(match[1]);
  }

  /**
   * Waits until the screen matches `pattern`.
   * @throws Error with the screen when it does not within `timeoutMs`
   */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      const match = screen.match(pattern);
      if (match !== null) return match;
      if (Date.now() > deadline) throw new Error(`Screen did not match ${pattern} within ${timeoutMs} ms:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Waits for the pane's command to exit.
   * @returns its exit status
   */
  async waitForExit(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.exitStatus();
      if (status !== undefined) return status;
      if (Date.now() > deadline) throw new Error(`Pane command did not exit within ${timeoutMs} ms:\n${this.screen()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops the tmux server (and the pane's command) and removes its socket folder. */
  kill(): void {
    try {
      this.#tmux(['kill-server']);
    } catch {
      // Already gone.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
