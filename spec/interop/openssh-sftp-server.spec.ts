/**
 * SFTP interop, our server: OpenSSH's `sftp -b` batch client against serveSftp (put, get, ls,
 * mkdir, rename, ln -s, chmod, df, rm, rmdir; 16 MiB hashed both ways), exiting on its own once
 * our server closes the channel after its EOF; a path outside the root is refused to it too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import { importKey } from '../../lib/keys/index.js';
import { serveSftp } from '../../lib/sftp/index.js';
import { createOpenSshKey, skipWithoutOpenSsh, type OpenSshKeyFiles } from '../helpers/openssh.js';
import { startExecServer, type ExecServer } from './interop-sessions.js';

const skip = skipWithoutOpenSsh();

/**
 * Runs `sftp -b -` with `commands` on stdin against 127.0.0.1:port.
 * @returns exit code and output
 */
export function runSftpBatch(options: { port: number; identityFile: string; commands: string[]; cwd: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ['-F', '/dev/null', '-P', String(options.port), '-i', options.identityFile, '-b', '-'];
  for (const setting of ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'GlobalKnownHostsFile=/dev/null', 'BatchMode=yes', 'IdentitiesOnly=yes', 'IdentityAgent=none']) {
    args.push('-o', setting);
  }
  args.push('sshstreams@127.0.0.1');
  return new Promise((resolve) => {
    const child = execFile('/usr/bin/sftp', args, { cwd: options.cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
    child.stdin!.end(options.commands.join('\n') + '\n');
  });
}

describe.skipIf(skip)('OpenSSH interop: sftp -b against our server', () => {
  let server: ExecServer;
  let dir: string;
  let root: string;
  let local: string;
  let key: OpenSshKeyFiles;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-sftp-server-'));
    root = join(dir, 'root');
    local = join(dir, 'local');
    mkdirSync(root);
    mkdirSync(local);
    key = createOpenSshKey('ssh-ed25519', dir);
    const trusted = await importKey(key.publicKey);
    server = await startExecServer({
      hostKeys: [await generateKeyPair('ssh-ed25519')],
      onAuthenticating: (e) => e.authenticationType === 'publickey' && e.publicKey!.equals(trusted),
      onChannel: (channel) => serveSftp(channel, { root }),
    });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs put, get, ls, mkdir, rename, ln, chmod, df, rm and rmdir on 16 MiB', async () => {
    const content = randomBytes(16 * 1024 * 1024);
    const hash = createHash('sha256').update(content).digest('hex');
    writeFileSync(join(local, 'upload.bin'), content);
    const result = await runSftpBatch({
      port: server.port,
      identityFile: key.privatePath,
      cwd: local,
      commands: [
        'pwd',
        'mkdir up',
        'put upload.bin up/a.bin',
        'ls -l up',
        'rename up/a.bin up/b.bin',
        'ln -s b.bin up/link',
        'chmod 600 up/b.bin',
        'df -h /',
        'get up/link download.bin',
        'rm up/link',
        'ls -la',
      ],
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Remote working directory: /');
    expect(result.stdout).toMatch(/-rw\S* +1 +\d+ +\d+ +16777216 .* a\.bin/);
    expect(createHash('sha256').update(readFileSync(join(root, 'up/b.bin'))).digest('hex')).toBe(hash);
    expect(statSync(join(root, 'up/b.bin')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(root, 'up/link'))).toBe(false);
    expect(createHash('sha256').update(readFileSync(join(local, 'download.bin'))).digest('hex')).toBe(hash);

    const cleanup = await runSftpBatch({ port: server.port, identityFile: key.privatePath, cwd: local, commands: ['rm up/b.bin', 'rmdir up', 'ls'] });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(existsSync(join(root, 'up'))).toBe(false);
  });

  it('creates links the way OpenSSH orders SYMLINK arguments', async () => {
    writeFileSync(join(root, 'target.txt'), 'x');
    const result = await runSftpBatch({ port: server.port, identityFile: key.privatePath, cwd: local, commands: ['ln -s target.txt made-link'] });
    expect(result.code, result.stderr).toBe(0);
    expect(readlinkSync(join(root, 'made-link'))).toBe('target.txt');
    rmSync(join(root, 'made-link'));
    rmSync(join(root, 'target.txt'));
  });

  it('fails a batch that reaches outside the root, and the server keeps serving', async () => {
    writeFileSync(join(dir, 'secret'), 'top secret');
    const result = await runSftpBatch({ port: server.port, identityFile: key.privatePath, cwd: local, commands: ['get ../secret stolen', `get ${join(dir, 'secret')} stolen`] });
    expect(result.code).not.toBe(0);
    expect(existsSync(join(local, 'stolen'))).toBe(false);
    const after = await runSftpBatch({ port: server.port, identityFile: key.privatePath, cwd: local, commands: ['ls'] });
    expect(after.code, after.stderr).toBe(0);
  });
});
