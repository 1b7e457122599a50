/**
 * serveSftp against our client over an in-memory session: every operation, the OpenSSH extensions,
 * directory batches with longnames, read-only refusals, the handle bound, and handles closed when
 * the channel ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SftpError, SftpStatus } from '../../lib/sftp/index.js';
import { hashStream, patternSource } from '../interop/interop-sessions.js';
import { sftpPair, type SftpPair } from './sftp-pair.js';

let pair: SftpPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('serveSftp', () => {
  it('serves every path operation inside its root', async () => {
    pair = await sftpPair();
    const { sftp, root } = pair;
    expect(await sftp.realpath('.')).toBe('/');
    await sftp.mkdir('/dir', { mode: 0o750 });
    expect(statSync(join(root, 'dir')).mode & 0o777).toBe(0o750);
    await sftp.writeFile('/dir/a.txt', 'hello');
    expect(readFileSync(join(root, 'dir/a.txt'), 'utf8')).toBe('hello');
    expect(new TextDecoder().decode(await sftp.readFile('dir/a.txt'))).toBe('hello');
    const attrs = await sftp.stat('/dir/a.txt');
    expect([attrs.isFile(), attrs.size]).toEqual([true, 5]);
    expect(await sftp.realpath('/dir/../dir/./a.txt')).toBe('/dir/a.txt');

    await sftp.symlink('a.txt', '/dir/link');
    expect(readlinkSync(join(root, 'dir/link'))).toBe('a.txt');
    expect(await sftp.readlink('/dir/link')).toBe('a.txt');
    expect((await sftp.lstat('/dir/link')).isSymbolicLink()).toBe(true);
    expect((await sftp.stat('/dir/link')).isFile()).toBe(true);
    await sftp.symlink('/dir/a.txt', '/abs-link');
    expect(readlinkSync(join(root, 'abs-link'))).toBe(join(root, 'dir/a.txt'));
    expect(await sftp.readlink('/abs-link')).toBe('/dir/a.txt');
    expect(new TextDecoder().decode(await sftp.readFile('/abs-link'))).toBe('hello');

    await sftp.setstat('/dir/a.txt', { mode: 0o600, atime: 1_000_000, mtime: 2_000_000 });
    expect(statSync(join(root, 'dir/a.txt')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'dir/a.txt')).mtimeMs).toBe(2_000_000_000);
    await sftp.setstat('/dir/a.txt', { size: 2 });
    expect(readFileSync(join(root, 'dir/a.txt'), 'utf8')).toBe('he');

    await sftp.writeFile('/dir/b.txt', 'other');
    await sftp.rename('/dir/a.txt', '/dir/b.txt');
    expect(readFileSync(join(root, 'dir/b.txt'), 'utf8')).toBe('he');
    await sftp.hardlink('/dir/b.txt', '/dir/c.txt');
    expect(statSync(join(root, 'dir/c.txt')).ino).toBe(statSync(join(root, 'dir/b.txt')).ino);
    expect((await sftp.statvfs('/')).bsize).toBeGreaterThan(0n);

    expect((await sftp.readdir('/dir')).map((e) => e.filename).sort()).toEqual(['b.txt', 'c.txt', 'link']);
    await sftp.remove('/dir/link');
    await sftp.remove('/dir/b.txt');
    await sftp.remove('/dir/c.txt');
    await sftp.rmdir('/dir');
    expect(existsSync(join(root, 'dir'))).toBe(false);
    await expect(sftp.rmdir('/')).rejects.toMatchObject({ code: SftpStatus.PERMISSION_DENIED });
  });

  it('refuses plain RENAME onto an existing file, as draft-02 says', async () => {
    pair = await sftpPair();
    writeFileSync(join(pair.root, 'a'), 'a');
    writeFileSync(join(pair.root, 'b'), 'b');
    const plain = Object.create(pair.sftp, { extensions: { value: new Map() } }) as typeof pair.sftp;
    await expect(plain.rename('/a', '/b')).rejects.toMatchObject({ code: SftpStatus.FAILURE, path: '/a' });
    await plain.rename('/a', '/c');
    expect(readFileSync(join(pair.root, 'c'), 'utf8')).toBe('a');
  });

  it('answers open files: positional I/O, fstat, fsetstat, fsync, append and exclusive create', async () => {
    pair = await sftpPair();
    const { sftp, root } = pair;
    const file = await sftp.open('/f', 'w');
    await file.write(0, new Uint8Array([1, 2, 3]));
    await file.write(6, new Uint8Array([9]));
    expect((await sftp.fstat(file)).size).toBe(7);
    await file.setstat({ mode: 0o604 });
    await file.sync();
    expect((await file.statvfs()).bsize).toBeGreaterThan(0n);
    await file.close();
    expect(statSync(join(root, 'f')).mode & 0o777).toBe(0o604);
    const again = await sftp.open('/f');
    expect([...(await again.read(1, 10))]).toEqual([2, 3, 0, 0, 0, 9]);
    expect((await again.read(7, 10)).length).toBe(0);
    await again.close();
    await expect(again.close()).rejects.toMatchObject({ code: SftpStatus.FAILURE });
    const appender = sftp.createWriteStream('/f', { flags: 'a' }).getWriter();
    await appender.write(new Uint8Array([5]));
    await appender.close();
    expect([...readFileSync(join(root, 'f'))]).toEqual([1, 2, 3, 0, 0, 0, 9, 5]);
    await expect(sftp.writeFile('/f', 'x', { flags: 'wx' })).rejects.toMatchObject({ code: SftpStatus.FAILURE, path: '/f' });
  });

  it('lists 250 entries in batches of at most 100 with ls -l longnames', async () => {
    pair = await sftpPair();
    mkdirSync(join(pair.root, 'many'));
    for (let i = 0; i < 250; i++) writeFileSync(join(pair.root, 'many', `e${i}`), 'x'.repeat(i));
    const entries = await pair.sftp.readdir('/many');
    expect(entries.length).toBe(250);
    const e42 = entries.find((e) => e.filename === 'e42')!;
    expect(e42.attributes.size).toBe(42);
    expect(e42.longname).toMatch(/^-rw-r--r-- +1 \d+ +\d+ +42 [A-Z][a-z]{2} [ \d]\d \d\d:\d\d e42$/);
  });

  it('moves 8 MiB each way with matching SHA-256, and several files at once', async () => {
    pair = await sftpPair();
    const { sftp, root } = pair;
    const source = patternSource(8 * 1024 * 1024, 3);
    await source.stream().pipeTo(sftp.createWriteStream('/big'));
    expect(createHash('sha256').update(readFileSync(join(root, 'big'))).digest('hex')).toBe(source.hash);
    expect((await hashStream(sftp.createReadStream('/big'))).hash).toBe(source.hash);
    const small = [1, 2, 3, 4].map((seed) => ({ path: `/p${seed}`, source: patternSource(300_000 * seed, seed) }));
    await Promise.all(small.map((f) => f.source.stream().pipeTo(sftp.createWriteStream(f.path))));
    expect(await Promise.all(small.map(async (f) => (await hashStream(sftp.createReadStream(f.path))).hash))).toEqual(small.map((f) => f.source.hash));
  });

  it('refuses every change when read-only, and still serves reads', async () => {
    pair = await sftpPair({ readOnly: true });
    const { sftp, root } = pair;
    writeFileSync(join(root, 'r'), 'read me');
    mkdirSync(join(root, 'd'));
    expect(new TextDecoder().decode(await sftp.readFile('/r'))).toBe('read me');
    const refusals = [
      () => sftp.writeFile('/new', 'x'),
      () => sftp.writeFile('/r', 'x'),
      () => sftp.mkdir('/m'),
      () => sftp.rmdir('/d'),
      () => sftp.remove('/r'),
      () => sftp.rename('/r', '/s'),
      () => sftp.setstat('/r', { mode: 0o777 }),
      () => sftp.symlink('r', '/l'),
      () => sftp.hardlink('/r', '/h'),
    ];
    for (const refused of refusals) {
      const error = await refused().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(SftpError);
      expect((error as SftpError).code).toBe(SftpStatus.PERMISSION_DENIED);
    }
    expect(readdirSync(root).sort()).toEqual(['d', 'r']);
    expect(readFileSync(join(root, 'r'), 'utf8')).toBe('read me');
  });

  it('bounds the open handles per session and closes them all when the channel ends', async () => {
    pair = await sftpPair({ maxHandles: 4 });
    const { sftp, root } = pair;
    for (let i = 0; i < 5; i++) writeFileSync(join(root, `h${i}`), String(i));
    const before = openDescriptors();
    const files = await Promise.all([0, 1, 2, 3].map((i) => sftp.open(`/h${i}`)));
    await expect(sftp.open('/h4')).rejects.toMatchObject({ code: SftpStatus.FAILURE, message: expect.stringContaining('Too many open handles') });
    await expect(sftp.readdir('/')).rejects.toMatchObject({ code: SftpStatus.FAILURE });
    await files[0]!.close();
    const fifth = await sftp.open('/h4');
    expect(new TextDecoder().decode(await fifth.read(0, 10))).toBe('4');
    expect(openDescriptors()).toBe(before + 4);
    await sftp.close();
    for (let i = 0; i < 100 && openDescriptors() > before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(openDescriptors()).toBe(before);
    expect(lstatSync(root).isDirectory()).toBe(true);
  });

  it('refuses channel requests other than the sftp subsystem', async () => {
    pair = await sftpPair();
    const channel = await pair.client.openChannel();
    expect(await channel.exec('ls')).toBe(false);
    expect(await channel.subsystem('other')).toBe(false);
    expect(await channel.subsystem('sftp')).toBe(true);
    expect(await channel.subsystem('sftp')).toBe(false);
    await channel.close();
  });
});
