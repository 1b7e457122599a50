/**
 * The package as users get it: `npm pack`, the tarball installed into a fresh folder with npm
 * (dependencies from the registry; the optional node-pty is not installed there), then
 * `npx ssh-streams --help` and `npx ssh-streams serve` from that folder, logged in to by OpenSSH.
 * Without node-pty, `ssh -tt` is told the terminal was refused, and a shell runs on pipes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/built-package.js';
import { runSsh, skipWithoutOpenSsh } from '../helpers/openssh.js';
import { runCli, startServe } from './cli-process.js';

const skip = skipWithoutOpenSsh();

describe.skipIf(skip)('the packed package, installed with npm', () => {
  let dir: string;
  let app: string;
  let tarball: string;
  const npx = ['npx', 'ssh-streams'];

  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-pack-'));
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    tarball = join(dir, packed.at(-1)!);
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'uses-ssh-streams', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel', 'error', tarball], { cwd: app, stdio: 'pipe' });
  }, 240_000);
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('carries the compiled library, the bin, README and LICENSE, and no sources or specs', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const file of ['package/LICENSE', 'package/README.md', 'package/package.json', 'package/dist/lib/cli/main.js', 'package/dist/lib/terminal/index.js', 'package/dist/lib/index.d.ts']) {
      expect(files).toContain(file);
    }
    expect(files.filter((file) => /^package\/(lib|spec)\//.test(file))).toEqual([]);
    expect(existsSync(join(app, 'node_modules', 'node-pty'))).toBe(false);
  });

  it('answers npx ssh-streams --help', async () => {
    const help = await runCli(['--help'], { program: npx, cwd: app });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ssh-streams <command>/);
    expect(help.stdout).toContain('Usage: ssh-streams serve [options]');
    expect(help.stdout).toContain('Usage: ssh-streams connect [options] [user@]host [command...]');
    expect(help.stdout).toContain('SSH_STREAMS_PASSWORD');
  });

  it('serves ssh from npx ssh-streams serve, on pipes without node-pty', async () => {
    const env = { ...process.env, SSH_STREAMS_PASSWORD: 'packed-Secret-3' };
    const server = await startServe(['--user', 'tester', '--state', join(dir, 'state'), '--authorized-keys', join(dir, 'none')], { env, program: npx, cwd: app });
    try {
      expect(server.output().stdout).toContain('Shells: without a terminal (install node-pty for one)');
      const login = { port: server.port, user: 'tester', password: 'packed-Secret-3', authentication: 'password' as const };
      const exec = await runSsh(['echo packed; exit 4'], login);
      expect([exec.exitCode, exec.stdout]).toEqual([4, 'packed\n']);
      // ssh -tt treats a refused terminal as fatal; a shell without one runs on pipes.
      const tty = await runSsh(['tty'], { ...login, flags: ['-tt'] });
      expect(tty.stderr).toMatch(/PTY allocation request failed/);
      const shell = await runSsh([], { ...login, input: 'tty || echo no-tty; echo $((20+22)); exit 6\n' });
      expect([shell.exitCode, shell.stdout]).toEqual([6, 'not a tty\nno-tty\n42\n']);
      await expect.poll(() => server.output().stderr).toMatch(/SSH_STREAMS_NO_PTY.*node-pty could not be loaded/);
    } finally {
      await server.stop();
    }
  });
});
