/**
 * Pseudo-terminals with OpenSSH's client (RFC 4254 §6.2, §6.7, §6.9): `ssh -tt` runs in a tmux pane
 * against our server (serveExec with node-pty) and gets a real terminal: `tty` names a /dev/pts
 * device, `stty size` is the pane's size and follows a resize, Ctrl-C interrupts the foreground
 * program, and the shell's exit status becomes ssh's.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import { importKey } from '../../lib/keys/index.js';
import { createOpenSshKey, OPENSSH_PATHS, skipWithoutOpenSsh, type OpenSshKeyFiles } from '../helpers/openssh.js';
import { skipWithoutTmux, TmuxPane } from '../helpers/tmux.js';
import { startExecServer, type ExecServer } from './interop-sessions.js';

const skip = skipWithoutOpenSsh() || skipWithoutTmux();

/** True while a process whose whole command line is `command` runs (read from /proc). */
function running(command: string): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '').join(' ') === command) return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

describe.skipIf(skip)('OpenSSH ssh -tt into our server', () => {
  let server: ExecServer;
  let dir: string;
  let userKey: OpenSshKeyFiles;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-pty-'));
    userKey = createOpenSshKey('ssh-ed25519', dir);
    const accepted = await importKey(userKey.publicKey);
    server = await startExecServer({
      hostKeys: [await generateKeyPair('ssh-ed25519')],
      onAuthenticating: (e) => e.authenticationType === 'publickey' && e.publicKey!.equals(accepted),
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function sshCommand(): string {
    const options = [
      'StrictHostKeyChecking=no',
      'UserKnownHostsFile=/dev/null',
      'GlobalKnownHostsFile=/dev/null',
      'BatchMode=yes',
      'IdentitiesOnly=yes',
      'IdentityAgent=none',
      `IdentityFile=${userKey.privatePath}`,
      'LogLevel=ERROR',
    ];
    const argv = ['-F', '/dev/null', '-tt', '-p', String(server.port), ...options.flatMap((o) => ['-o', o]), 'tester@127.0.0.1'];
    return [OPENSSH_PATHS.ssh, ...argv].join(' ');
  }

  it('gets a terminal of the pane size that follows resizes, passes Ctrl-C, and exits with the shell status', async () => {
    const pane = TmuxPane.start({ command: sshCommand(), columns: 100, rows: 30 });
    try {
      pane.type('echo "tty=$(tty)"');
      pane.press('Enter');
      await pane.waitFor(/^tty=\/dev\/pts\/\d+$/m);

      pane.type('echo "size=$(stty size)"');
      pane.press('Enter');
      await pane.waitFor(/^size=30 100$/m);

      // ssh gets SIGWINCH from the pane's terminal and sends window-change.
      pane.resize(120, 40);
      pane.type('clear; echo "size=$(stty size)"');
      pane.press('Enter');
      await pane.waitFor(/^size=40 120$/m);

      // Ctrl-C travels as a byte; the remote line discipline makes it SIGINT for `sleep`.
      pane.type('sleep 41.25');
      pane.press('Enter');
      await expect.poll(() => running('sleep 41.25'), { timeout: 20_000 }).toBe(true);
      pane.press('C-c');
      await expect.poll(() => running('sleep 41.25'), { timeout: 20_000 }).toBe(false);
      pane.type('echo "status=$?"');
      pane.press('Enter');
      await pane.waitFor(/^status=130$/m);

      pane.type('exit 3');
      pane.press('Enter');
      expect(await pane.waitForExit()).toBe(3);
    } finally {
      pane.kill();
    }
  });

  it('runs a command in a terminal with ssh -tt host command', async () => {
    // The output goes to a file (the pane's screen may redraw its first line); stdin is the pane.
    const output = join(dir, 'exec-output');
    const pane = TmuxPane.start({ command: `${sshCommand()} 'tty; stty size; exit 7' > ${output}`, columns: 90, rows: 25 });
    try {
      expect(await pane.waitForExit()).toBe(7);
      expect(readFileSync(output, 'utf8')).toMatch(/^\/dev\/pts\/\d+\r\n25 90\r\n$/);
    } finally {
      pane.kill();
    }
  });
});
