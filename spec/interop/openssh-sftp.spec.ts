/**
 * SFTP interop with OpenSSH: our client against sshd's `Subsystem sftp /usr/lib/openssh/sftp-server`
 * (every operation, the OpenSSH extensions, 64 MiB each way with SHA-256, a directory of 1000
 * entries, many files at once over one channel, a missing path as code 2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { exportPublicKey, importKey } from '../../lib/keys/index.js';
import type { ClientSession } from '../../lib/client-session.js';
import { SftpClient, SftpError, SftpStatus } from '../../lib/sftp/index.js';
import { ensureTestUser, hostPublicKey, HOST_KEY_TYPES, skipWithoutOpenSsh, startSshd, type Sshd, type TestUser } from '../helpers/openssh.js';
import { connectClient, hashStream, patternSource } from './interop-sessions.js';

const skip = skipWithoutOpenSsh();
const MiB = 1024 * 1024;

describe.skipIf(skip)('OpenSSH interop: our SFTP client against sftp-server', () => {
  let sshd: Sshd;
  let user: TestUser;
  let userKey: KeyPair;
  let hostKeys: KeyPair[];
  let client: ClientSession;
  let sftp: SftpClient;
  let dir: string;

  beforeAll(async () => {
    user = ensureTestUser();
    userKey = await generateKeyPair('ssh-ed25519');
    sshd = await startSshd({ authorizedKeys: [await exportPublicKey(userKey)], sftpServer: '/usr/lib/openssh/sftp-server' });
    hostKeys = await Promise.all(HOST_KEY_TYPES.map((type) => importKey(hostPublicKey(sshd, type))));
    client = await connectClient(sshd.port, hostKeys);
    if (!(await client.authenticate({ username: user.username, privateKeys: [userKey] }))) throw new Error('Login to sshd failed');
    sftp = await SftpClient.open(client);
    dir = mkdtempSync('/tmp/ssh-streams-sftp-');
    const { uid, gid } = statSync(user.home);
    chownSync(dir, uid, gid);
  });
  afterAll(async () => {
    await sftp?.close();
    await client?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the OpenSSH extensions and limits from VERSION', () => {
    for (const name of ['posix-rename@openssh.com', 'statvfs@openssh.com', 'hardlink@openssh.com', 'fsync@openssh.com', 'limits@openssh.com']) {
      expect(sftp.extensions.has(name)).toBe(true);
    }
    expect(sftp.limits!.maxReadLength).toBeGreaterThanOrEqual(32 * 1024);
    expect(sftp.limits!.maxWriteLength).toBeGreaterThanOrEqual(32 * 1024);
  });

  it('runs every path operation', async () => {
    const base = join(dir, 'ops');
    await sftp.mkdir(base, { mode: 0o750 });
    expect(statSync(base).mode & 0o777).toBe(0o750);
    expect((await sftp.stat(base)).isDirectory()).toBe(true);
    expect(await sftp.realpath(`${base}/./../ops/.`)).toBe(base);

    await sftp.writeFile(`${base}/a.txt`, 'hello sftp');
    expect(readFileSync(`${base}/a.txt`, 'utf8')).toBe('hello sftp');
    expect(new TextDecoder().decode(await sftp.readFile(`${base}/a.txt`))).toBe('hello sftp');
    const attrs = await sftp.stat(`${base}/a.txt`);
    expect(attrs.isFile()).toBe(true);
    expect(attrs.size).toBe(10);
    expect(attrs.uid).toBe(statSync(user.home).uid);

    await sftp.symlink('a.txt', `${base}/link`);
    expect(readlinkSync(`${base}/link`)).toBe('a.txt');
    expect(await sftp.readlink(`${base}/link`)).toBe('a.txt');
    expect((await sftp.lstat(`${base}/link`)).isSymbolicLink()).toBe(true);
    expect((await sftp.stat(`${base}/link`)).isFile()).toBe(true);

    await sftp.setstat(`${base}/a.txt`, { mode: 0o600, atime: 1_000_000, mtime: 2_000_000 });
    const set = statSync(`${base}/a.txt`);
    expect(set.mode & 0o777).toBe(0o600);
    expect(set.mtimeMs).toBe(2_000_000_000);
    expect((await sftp.stat(`${base}/a.txt`)).atime).toBe(1_000_000);

    await sftp.writeFile(`${base}/b.txt`, 'replaced');
    await sftp.rename(`${base}/a.txt`, `${base}/b.txt`);
    expect(readFileSync(`${base}/b.txt`, 'utf8')).toBe('hello sftp');
    expect(existsSync(`${base}/a.txt`)).toBe(false);

    await sftp.hardlink(`${base}/b.txt`, `${base}/c.txt`);
    expect(statSync(`${base}/c.txt`).ino).toBe(statSync(`${base}/b.txt`).ino);
    const vfs = await sftp.statvfs(base);
    expect(vfs.bsize).toBeGreaterThan(0n);

    const names = (await sftp.readdir(base)).map((e) => e.filename).sort();
    expect(names).toEqual(['b.txt', 'c.txt', 'link']);

    await sftp.remove(`${base}/link`);
    expect(existsSync(`${base}/link`)).toBe(false);
    await sftp.remove(`${base}/b.txt`);
    await sftp.remove(`${base}/c.txt`);
    await sftp.rmdir(base);
    expect(existsSync(base)).toBe(false);
  });

  it('uses open files: positional read and write, fstat, fsetstat, fsync, append', async () => {
    const path = join(dir, 'handle.bin');
    const file = await sftp.open(path, 'w');
    await file.write(0, new Uint8Array([1, 2, 3, 4]));
    await file.write(10, new Uint8Array([9]));
    expect((await sftp.fstat(file)).size).toBe(11);
    await file.sync();
    expect((await file.statvfs()).namemax).toBeGreaterThan(0n);
    await file.setstat({ mode: 0o640 });
    await file.close();
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const reader = await sftp.open(path);
    expect([...(await reader.read(2, 4))]).toEqual([3, 4, 0, 0]);
    expect((await reader.read(11, 10)).length).toBe(0);
    await reader.close();

    const writer = sftp.createWriteStream(path, { flags: 'a' }).getWriter();
    await writer.write(new Uint8Array([7, 7]));
    await writer.close();
    expect([...readFileSync(path)].slice(9)).toEqual([0, 9, 7, 7]);
    await expect(sftp.writeFile(path, 'x', { flags: 'wx' })).rejects.toMatchObject({ code: SftpStatus.FAILURE });
  });

  it('reports a missing path as NO_SUCH_FILE (code 2) with the path', async () => {
    const missing = join(dir, 'does-not-exist');
    for (const op of [() => sftp.stat(missing), () => sftp.readFile(missing), () => sftp.remove(missing), () => sftp.readdir(missing)]) {
      const error = await op().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(SftpError);
      expect(error).toMatchObject({ code: 2, path: missing });
      expect((error as Error).message).toContain(missing);
    }
  });

  it('lists a directory of 1000 entries over several READDIR batches', async () => {
    const big = join(dir, 'many');
    mkdirSync(big);
    for (let i = 0; i < 1000; i++) writeFileSync(join(big, `entry-${i}`), String(i));
    const entries = await sftp.readdir(big);
    expect(entries.length).toBe(1000);
    expect(new Set(entries.map((e) => e.filename)).size).toBe(1000);
    const one = entries.find((e) => e.filename === 'entry-999')!;
    expect(one.attributes.size).toBe(3);
    expect(one.longname).toMatch(/^-rw.* entry-999$/);
  });

  it('uploads and downloads 64 MiB each way with matching SHA-256', async () => {
    const up = patternSource(64 * MiB, 7);
    const path = join(dir, 'big.bin');
    await up.stream().pipeTo(sftp.createWriteStream(path));
    expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(up.hash);
    expect(await hashStream(sftp.createReadStream(path))).toEqual({ hash: up.hash, bytes: 64 * MiB });
    const part = await hashStream(sftp.createReadStream(path, { start: 1000, end: 5 * MiB + 999 }));
    expect(part).toEqual({ hash: createHash('sha256').update(readFileSync(path).subarray(1000, 5 * MiB + 1000)).digest('hex'), bytes: 5 * MiB });
  });

  it('moves many files at once over the one channel', async () => {
    const files = Array.from({ length: 20 }, (_, i) => ({ path: join(dir, `par-${i}`), source: patternSource(256 * 1024 + i * 1000, i) }));
    await Promise.all(files.map((f) => f.source.stream().pipeTo(sftp.createWriteStream(f.path))));
    const hashes = await Promise.all(files.map((f) => hashStream(sftp.createReadStream(f.path))));
    expect(hashes.map((h) => h.hash)).toEqual(files.map((f) => f.source.hash));
    expect(lstatSync(files[0]!.path).isFile()).toBe(true);
  });
});
