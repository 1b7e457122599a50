/**
 * attachTerminal in a real terminal: a tmux pane runs a small program built on the compiled
 * package (`ssh-streams`, `ssh-streams/terminal`) that logs in to OpenSSH's sshd and attaches the
 * pane. Typed keys reach the remote shell, the remote terminal has the pane's size and follows a
 * resize, the exit status comes back, and `stty -a` of the pane is the same before and after,
 * whether the remote side ends the session or a signal ends the program.
 */
import { readFileSync, rmSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOpenSshKey,
  ensureTestUser,
  HOST_KEY_TYPES,
  hostPublicKey,
  skipWithoutOpenSsh,
  startSshd,
  type Sshd,
  type TestUser,
} from '../helpers/openssh.js';
import { skipWithoutTmux, TmuxPane } from '../helpers/tmux.js';
import { distUrl, ensureBuilt } from '../helpers/built-package.js';

const skip = skipWithoutOpenSsh() || skipWithoutTmux();

/** The program in the pane: only the package's public entry points. */
function attachProgram(): string {
  return `
import { readFileSync, writeFileSync } from 'node:fs';
import { SessionConfig } from '${distUrl('lib/index.node.js')}';
import { importKey } from '${distUrl('lib/keys/index.node.js')}';
import { TcpClient } from '${distUrl('lib/tcp/index.js')}';
import { attachTerminal } from '${distUrl('lib/terminal/index.js')}';
const [port, keyFile, knownKeysFile, user, pidFile] = process.argv.slice(2);
writeFileSync(pidFile, String(process.pid));
const known = await Promise.all(readFileSync(knownKeysFile, 'utf8').trim().split('\\n').map((line) => importKey(line)));
const tcp = new TcpClient(SessionConfig.default());
tcp.onSessionAuthenticating = (e) => known.some((key) => key.equals(e.publicKey));
const session = await tcp.openSession('127.0.0.1', Number(port));
const key = await importKey(readFileSync(keyFile, 'utf8'));
if (!(await session.authenticate({ username: user, privateKeys: [key] }))) process.exit(200);
const { exitStatus } = await attachTerminal(await session.openChannel(), { stdin: process.stdin, stdout: process.stdout });
await session.close();
process.exit(exitStatus ?? 255);
`;
}

/**
 * A program that serves itself: its server grants the pseudo-terminal but refuses the shell, so
 * attachTerminal throws after the tty went raw; the program prints the error and exits 9.
 */
function refusedProgram(): string {
  return `
import { generateKeyPair, SessionConfig } from '${distUrl('lib/index.node.js')}';
import { TcpClient, TcpServer } from '${distUrl('lib/tcp/index.js')}';
import { attachTerminal } from '${distUrl('lib/terminal/index.js')}';
const hostKey = await generateKeyPair('ssh-ed25519');
const server = new TcpServer(SessionConfig.default());
server.credentials = { hostKeys: [hostKey] };
server.onSessionAuthenticating = (e) => e.password === 'pw';
server.onSessionOpened = async (session) => {
  for await (const channel of session.channels) channel.onRequest = (e) => e.requestType === 'pty-req';
};
await server.listen(0, '127.0.0.1');
const tcp = new TcpClient(SessionConfig.default());
tcp.onSessionAuthenticating = (e) => e.publicKey.equals(hostKey);
const session = await tcp.openSession('127.0.0.1', server.port);
await session.authenticate({ username: 'u', password: 'pw' });
try {
  await attachTerminal(await session.openChannel(), { stdin: process.stdin, stdout: process.stdout, pty: true });
} catch (error) {
  console.log('attach failed: ' + error.message);
  process.exit(9);
}
`;
}

describe.skipIf(skip)('attachTerminal in a tmux pane against sshd', () => {
  let sshd: Sshd;
  let user: TestUser;
  let dir: string;
  let paneCommand: string;

  beforeAll(async () => {
    ensureBuilt();
    user = ensureTestUser();
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-attach-'));
    const userKey = createOpenSshKey('ssh-ed25519', dir);
    sshd = await startSshd({ authorizedKeys: [userKey.publicKey] });
    writeFileSync(join(dir, 'known'), HOST_KEY_TYPES.map((type) => hostPublicKey(sshd, type)).join('\n'));
    writeFileSync(join(dir, 'attach.mjs'), attachProgram());
    writeFileSync(join(dir, 'refused.mjs'), refusedProgram());
    const program = [process.execPath, join(dir, 'attach.mjs'), sshd.port, userKey.privatePath, join(dir, 'known'), user.username, join(dir, 'pid')];
    // stty -a of the pane before and after the program; the pane then shows the program's status.
    paneCommand = `stty -a > ${dir}/before; printf %s "$TERM" > ${dir}/term; ${program.join(' ')}; status=$?; stty -a > ${dir}/after; (exit $status)`;
  });
  afterAll(async () => {
    await sshd?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function start(command = paneCommand): TmuxPane {
    rmSync(join(dir, 'after'), { force: true });
    rmSync(join(dir, 'pid'), { force: true });
    return TmuxPane.start({ command, columns: 97, rows: 29 });
  }

  /** `stty -a` of the pane before and after the program, without the size (the pane may have been resized). */
  function sttyBeforeAndAfter(): [string, string] {
    const settings = (file: string): string => readFileSync(join(dir, file), 'utf8').replace(/rows \d+; columns \d+;/, '');
    return [settings('before'), settings('after')];
  }

  it('carries typed keys, the pane size and its resizes, and the exit status; the tty is sane after', async () => {
    const pane = start();
    try {
      pane.type('echo "typed=$((6*7)) term=$TERM"');
      pane.press('Enter');
      const [, term] = await pane.waitFor(/^typed=42 term=(\S+)$/m);
      expect(term).toBe(readFileSync(join(dir, 'term'), 'utf8'));

      pane.type('echo "size=$(stty size)"');
      pane.press('Enter');
      await pane.waitFor(/^size=29 97$/m);

      pane.resize(110, 35);
      pane.type('clear; echo "size=$(stty size)"');
      pane.press('Enter');
      await pane.waitFor(/^size=35 110$/m);

      pane.type('exit 4');
      pane.press('Enter');
      expect(await pane.waitForExit()).toBe(4);
      const [before, after] = sttyBeforeAndAfter();
      expect(before).toMatch(/\bicanon\b/);
      expect(after).toBe(before);
    } finally {
      pane.kill();
    }
  });

  it('restores the tty when a signal ends the program', async () => {
    const pane = start();
    try {
      pane.type('echo "ready=$((1+1))"');
      pane.press('Enter');
      await pane.waitFor(/^ready=2$/m);
      expect(existsSync(join(dir, 'pid'))).toBe(true);
      process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 'SIGTERM');
      // Killed by SIGTERM: the shell reports 128 + 15.
      expect(await pane.waitForExit()).toBe(143);
      const [before, after] = sttyBeforeAndAfter();
      expect(after).toBe(before);
    } finally {
      pane.kill();
    }
  });

  it('restores the tty when attachTerminal throws (the server refuses the shell)', async () => {
    const pane = start(`stty -a > ${dir}/before; ${process.execPath} ${join(dir, 'refused.mjs')}; status=$?; stty -a > ${dir}/after; (exit $status)`);
    try {
      expect(await pane.waitForExit()).toBe(9);
      expect(pane.screen()).toMatch(/^attach failed: Server refused the shell request$/m);
      const [before, after] = sttyBeforeAndAfter();
      expect(after).toBe(before);
    } finally {
      pane.kill();
    }
  });
});
