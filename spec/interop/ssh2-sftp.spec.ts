/**
 * SFTP interop with the `ssh2` package both ways: ssh2's SFTP client (fastPut/fastGet, streams,
 * directory and link operations) against serveSftp, and our client against an ssh2 SFTP server
 * written here over node:fs (a server without extensions: plain RENAME, 32 KiB requests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { exportPrivateKey, KeyFormat } from '../../lib/keys/index.js';
import type { ServerSession } from '../../lib/server-session.js';
import { serveSftp, SftpClient, SftpStatus } from '../../lib/sftp/index.js';
import { connectClient, hashStream, patternSource, startExecServer, type ExecServer } from './interop-sessions.js';

const MiB = 1024 * 1024;
const username = 'alice';
const password = 'ssh2-sftp-Password';

describe('ssh2 interop: ssh2 SFTP client against our server', () => {
  let server: ExecServer;
  let dir: string;
  let root: string;
  let client: ssh2.Client;
  let sftp: SFTPWrapper;
  let session: ServerSession | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'ssh-streams-ssh2-sftp-'));
    root = join(dir, 'root');
    fs.mkdirSync(root);
    server = await startExecServer({
      hostKeys: [await generateKeyPair('ssh-ed25519')],
      onAuthenticating: (e) => e.username === username && e.password === password,
      onSession: (s) => (session = s),
      onChannel: (channel) => serveSftp(channel, { root, clientVersion: session!.remoteVersion }),
    });
    client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve).once('error', reject);
      client.connect({ host: '127.0.0.1', port: server.port, username, password });
    });
    sftp = await promisify(client.sftp.bind(client))();
  });
  afterAll(async () => {
    client?.end();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('puts and gets 16 MiB with fastPut/fastGet and streams, hashes matching', async () => {
    const content = randomBytes(16 * MiB);
    const hash = createHash('sha256').update(content).digest('hex');
    fs.writeFileSync(join(dir, 'up.bin'), content);
    await promisify(sftp.fastPut.bind(sftp))(join(dir, 'up.bin'), '/up.bin');
    expect(createHash('sha256').update(fs.readFileSync(join(root, 'up.bin'))).digest('hex')).toBe(hash);
    await promisify(sftp.fastGet.bind(sftp))('/up.bin', join(dir, 'down.bin'));
    expect(createHash('sha256').update(fs.readFileSync(join(dir, 'down.bin'))).digest('hex')).toBe(hash);
    const streamed = createHash('sha256');
    for await (const chunk of sftp.createReadStream('/up.bin')) streamed.update(chunk as Buffer);
    expect(streamed.digest('hex')).toBe(hash);
  });

  it('runs directory, link, attribute and rename operations', async () => {
    const p = <T>(fn: (...args: never[]) => void, ...args: unknown[]): Promise<T> =>
      new Promise<T>((resolve, reject) => (fn as (...a: unknown[]) => void).call(sftp, ...args, (error: Error | null | undefined, value: T) => (error ? reject(error) : resolve(value))));
    await p(sftp.mkdir, '/d');
    await p(sftp.writeFile, '/d/a.txt', 'hello');
    expect(fs.readFileSync(join(root, 'd/a.txt'), 'utf8')).toBe('hello');
    expect(((await p(sftp.stat, '/d/a.txt')) as ssh2.Stats).size).toBe(5);
    await p(sftp.symlink, 'a.txt', '/d/link');
    expect(fs.readlinkSync(join(root, 'd/link'))).toBe('a.txt');
    expect(await p(sftp.readlink, '/d/link')).toBe('a.txt');
    expect(((await p(sftp.lstat, '/d/link')) as ssh2.Stats).isSymbolicLink()).toBe(true);
    await p(sftp.chmod, '/d/a.txt', 0o640);
    expect(fs.statSync(join(root, 'd/a.txt')).mode & 0o777).toBe(0o640);
    await p(sftp.rename, '/d/a.txt', '/d/b.txt');
    const list = (await p(sftp.readdir, '/d')) as ssh2.FileEntry[];
    expect(list.map((e) => e.filename).sort()).toEqual(['b.txt', 'link']);
    expect(list.find((e) => e.filename === 'b.txt')!.longname).toMatch(/^-rw-r----- +1 .* b\.txt$/);
    expect(await p(sftp.realpath, '/d/../d/./b.txt')).toBe('/d/b.txt');
    await p(sftp.unlink, '/d/link');
    await p(sftp.unlink, '/d/b.txt');
    await p(sftp.rmdir, '/d');
    expect(fs.readdirSync(root)).toEqual(['up.bin']);
    const missing = await p(sftp.stat, '/missing').catch((e: { code: number }) => e);
    expect(missing).toMatchObject({ code: SftpStatus.NO_SUCH_FILE });
    const escape = await p(sftp.readFile, '../../etc/passwd').catch((e: { code: number }) => e);
    expect(escape).toMatchObject({ code: SftpStatus.NO_SUCH_FILE });
  });
});

/** ssh2's SFTP server over the real file system (absolute paths as given), enough for our client's calls. */
function ssh2SftpServer(sftp: SFTPWrapper): void {
  const { STATUS_CODE } = ssh2.utils.sftp;
  const handles = new Map<number, { fd?: number; dir?: string[]; path: string }>();
  let next = 0;
  const toHandle = (entry: { fd?: number; dir?: string[]; path: string }): Buffer => {
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(++next);
    handles.set(next, entry);
    return handle;
  };
  const entryOf = (handle: Buffer) => handles.get(handle.readUInt32BE(0));
  const attrsOf = (s: fs.Stats) => ({ mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, atime: Math.floor(s.atimeMs / 1000), mtime: Math.floor(s.mtimeMs / 1000) });
  const fail = (id: number, error: unknown): void => {
    const code = (error as NodeJS.ErrnoException).code;
    sftp.status(id, code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : code === 'EACCES' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE, String(code));
  };
  const run = (id: number, fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      fail(id, error);
    }
  };
  const ok = (id: number) => sftp.status(id, STATUS_CODE.OK);
  sftp.on('OPEN', (id, path, flags, attrs) => run(id, () => sftp.handle(id, toHandle({ fd: fs.openSync(path, ssh2.utils.sftp.flagsToString(flags)!, attrs.mode ?? 0o644), path }))));
  sftp.on('READ', (id, handle, offset, length) =>
    run(id, () => {
      const buffer = Buffer.alloc(length);
      const read = fs.readSync(entryOf(handle)!.fd!, buffer, 0, length, offset);
      if (read === 0) sftp.status(id, STATUS_CODE.EOF);
      else sftp.data(id, buffer.subarray(0, read));
    }),
  );
  sftp.on('WRITE', (id, handle, offset, data) => run(id, () => (fs.writeSync(entryOf(handle)!.fd!, data, 0, data.length, offset), ok(id))));
  sftp.on('FSTAT', (id, handle) => run(id, () => sftp.attrs(id, attrsOf(fs.fstatSync(entryOf(handle)!.fd!)))));
  sftp.on('CLOSE', (id, handle) =>
    run(id, () => {
      const entry = entryOf(handle)!;
      if (entry.fd !== undefined) fs.closeSync(entry.fd);
      handles.delete(handle.readUInt32BE(0));
      ok(id);
    }),
  );
  sftp.on('STAT', (id, path) => run(id, () => sftp.attrs(id, attrsOf(fs.statSync(path)))));
  sftp.on('LSTAT', (id, path) => run(id, () => sftp.attrs(id, attrsOf(fs.lstatSync(path)))));
  sftp.on('OPENDIR', (id, path) => run(id, () => sftp.handle(id, toHandle({ dir: fs.readdirSync(path), path }))));
  sftp.on('READDIR', (id, handle) => {
    const entry = entryOf(handle)!;
    const batch = entry.dir!.splice(0, 64);
    if (batch.length === 0) return sftp.status(id, STATUS_CODE.EOF);
    sftp.name(id, batch.map((filename) => ({ filename, longname: filename, attrs: attrsOf(fs.lstatSync(join(entry.path, filename))) })));
  });
  sftp.on('MKDIR', (id, path, attrs) => run(id, () => (fs.mkdirSync(path, { mode: attrs.mode ?? 0o755 }), ok(id))));
  sftp.on('RMDIR', (id, path) => run(id, () => (fs.rmdirSync(path), ok(id))));
  sftp.on('REMOVE', (id, path) => run(id, () => (fs.unlinkSync(path), ok(id))));
  sftp.on('RENAME', (id, from, to) => run(id, () => (fs.existsSync(to) ? sftp.status(id, STATUS_CODE.FAILURE, 'exists') : (fs.renameSync(from, to), ok(id)))));
  sftp.on('REALPATH', (id, path) => run(id, () => sftp.name(id, [{ filename: fs.realpathSync(path), longname: '', attrs: {} as ssh2.Attributes }])));
  sftp.on('READLINK', (id, path) => run(id, () => sftp.name(id, [{ filename: fs.readlinkSync(path), longname: '', attrs: {} as ssh2.Attributes }])));
  sftp.on('SYMLINK', (id, linkPath, targetPath) => run(id, () => (fs.symlinkSync(targetPath, linkPath), ok(id))));
  sftp.on('SETSTAT', (id, path, attrs) =>
    run(id, () => {
      if (attrs.mode !== undefined) fs.chmodSync(path, attrs.mode);
      if (attrs.mtime !== undefined) fs.utimesSync(path, attrs.atime!, attrs.mtime);
      ok(id);
    }),
  );
}

describe('ssh2 interop: our SFTP client against an ssh2 SFTP server', () => {
  let server: ssh2.Server;
  let port: number;
  let hostKey: KeyPair;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'ssh-streams-ssh2-server-'));
    hostKey = await generateKeyPair('ssh-ed25519');
    const privateKey = await exportPrivateKey(hostKey, KeyFormat.OpenSsh);
    server = new ssh2.Server({ hostKeys: [privateKey] }, (connection) => {
      connection.on('error', () => {});
      connection.on('authentication', (ctx) => (ctx.method === 'password' && ctx.username === username && ctx.password === password ? ctx.accept() : ctx.reject(['password'])));
      connection.on('ready', () => connection.on('session', (accept) => accept().on('sftp', (acceptSftp) => ssh2SftpServer(acceptSftp()))));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs every operation and moves 16 MiB each way', async () => {
    const session = await connectClient(port, [hostKey]);
    expect(await session.authenticate({ username, password })).toBe(true);
    const sftp = await SftpClient.open(session);
    expect(sftp.limits).toBeUndefined();
    try {
      const base = join(dir, 'ops');
      await sftp.mkdir(base, { mode: 0o700 });
      expect((await sftp.stat(base)).isDirectory()).toBe(true);
      const source = patternSource(16 * MiB, 11);
      await source.stream().pipeTo(sftp.createWriteStream(`${base}/big`));
      expect(createHash('sha256').update(fs.readFileSync(`${base}/big`)).digest('hex')).toBe(source.hash);
      expect(await hashStream(sftp.createReadStream(`${base}/big`))).toEqual({ hash: source.hash, bytes: 16 * MiB });
      await sftp.symlink('big', `${base}/link`);
      expect(fs.readlinkSync(`${base}/link`)).toBe('big');
      expect(await sftp.readlink(`${base}/link`)).toBe('big');
      expect((await sftp.lstat(`${base}/link`)).isSymbolicLink()).toBe(true);
      await sftp.setstat(`${base}/big`, { mode: 0o600, atime: 5, mtime: 6 });
      expect(fs.statSync(`${base}/big`).mtimeMs).toBe(6000);
      await sftp.rename(`${base}/big`, `${base}/moved`);
      expect((await sftp.readdir(base)).map((e) => e.filename).sort()).toEqual(['link', 'moved']);
      expect(await sftp.realpath(`${base}/./moved`)).toBe(`${base}/moved`);
      await expect(sftp.stat(`${base}/missing`)).rejects.toMatchObject({ code: SftpStatus.NO_SUCH_FILE });
      await expect(sftp.statvfs(base)).rejects.toMatchObject({ code: SftpStatus.OP_UNSUPPORTED });
      await sftp.remove(`${base}/link`);
      await sftp.remove(`${base}/moved`);
      await sftp.rmdir(base);
      expect(fs.existsSync(base)).toBe(false);
    } finally {
      await sftp.close();
      await session.close();
    }
  });
});
