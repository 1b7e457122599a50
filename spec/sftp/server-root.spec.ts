/**
 * Confinement of serveSftp to its root, through our client: `..` chains, absolute paths, a symlink
 * inside the root pointing outside, symlinks created to point outside, and paths replaced by
 * symlinks between calls. The directory beside the root holds a secret that must never be read,
 * listed, written or linked to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SftpError, SftpStatus } from '../../lib/sftp/index.js';
import { ServerRoot } from '../../lib/sftp/server-root.js';
import { sftpPair, type SftpPair } from './sftp-pair.js';

let pair: SftpPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function failure(operation: Promise<unknown>): Promise<SftpError> {
  const error = await operation.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SftpError);
  return error as SftpError;
}

/** The outside directory is untouched: only the secret, with its content. */
function expectOutsideUntouched(p: SftpPair): void {
  expect(readdirSync(p.outside)).toEqual(['secret']);
  expect(readFileSync(join(p.outside, 'secret'), 'utf8')).toBe('top secret');
}

async function withSecret(): Promise<SftpPair> {
  const p = await sftpPair();
  writeFileSync(join(p.outside, 'secret'), 'top secret');
  return p;
}

describe('serveSftp confinement', () => {
  it('clamps .. chains and absolute paths at the root', async () => {
    pair = await withSecret();
    const { sftp } = pair;
    for (const path of ['../outside/secret', '/../outside/secret', '/a/../../../outside/secret', '../../../../../..' + pair.outside + '/secret', pair.outside + '/secret']) {
      expect((await failure(sftp.readFile(path))).code).toBe(SftpStatus.NO_SUCH_FILE);
      expect((await failure(sftp.stat(path))).code).toBe(SftpStatus.NO_SUCH_FILE);
    }
    await sftp.writeFile('../../escaped', 'x');
    expect(existsSync(join(pair.root, 'escaped'))).toBe(true);
    expect(await sftp.realpath('../../..')).toBe('/');
    expect((await sftp.readdir('/..')).map((e) => e.filename)).toEqual(['escaped']);
    expectOutsideUntouched(pair);
  });

  it('refuses to follow a symlink inside the root that points outside', async () => {
    pair = await withSecret();
    const { sftp, root, outside } = pair;
    symlinkSync(join(outside, 'secret'), join(root, 'file-link'));
    symlinkSync(outside, join(root, 'dir-link'));
    symlinkSync('../outside', join(root, 'relative-link'));
    const denied = [
      () => sftp.readFile('/file-link'),
      () => sftp.stat('/file-link'),
      () => sftp.readdir('/dir-link'),
      () => sftp.readFile('/dir-link/secret'),
      () => sftp.readFile('/relative-link/secret'),
      () => sftp.stat('/relative-link/secret'),
      () => sftp.lstat('/dir-link/secret'),
      () => sftp.writeFile('/dir-link/new', 'x'),
      () => sftp.writeFile('/file-link', 'overwrite'),
      () => sftp.mkdir('/dir-link/sub'),
      () => sftp.remove('/dir-link/secret'),
      () => sftp.rename('/dir-link/secret', '/stolen'),
      () => sftp.setstat('/file-link', { mode: 0o777 }),
      () => sftp.hardlink('/dir-link/secret', '/hard'),
      () => sftp.symlink('x', '/dir-link/planted'),
      () => sftp.realpath('/dir-link'),
      () => sftp.statvfs('/dir-link'),
    ];
    for (const operation of denied) expect((await failure(operation())).code).toBe(SftpStatus.PERMISSION_DENIED);
    // The links themselves are visible and removable: that touches nothing outside.
    expect((await sftp.lstat('/file-link')).isSymbolicLink()).toBe(true);
    expect(await sftp.readlink('/relative-link')).toBe('../outside');
    await sftp.remove('/file-link');
    expectOutsideUntouched(pair);
    expect(existsSync(join(root, 'stolen'))).toBe(false);
  });

  it('refuses to create a symlink whose target climbs out, and keeps absolute targets inside', async () => {
    pair = await withSecret();
    const { sftp, root } = pair;
    mkdirSync(join(root, 'sub'));
    for (const [target, link] of [['../outside/secret', '/l1'], ['../../outside', '/sub/l2'], ['sub/../../outside/secret', '/l3'], ['..', '/l4']]) {
      expect((await failure(sftp.symlink(target!, link!))).code).toBe(SftpStatus.PERMISSION_DENIED);
    }
    await sftp.symlink(`${pair.outside}/secret`, '/abs');
    expect((await failure(sftp.readFile('/abs'))).code).toBe(SftpStatus.NO_SUCH_FILE);
    await sftp.symlink('/../../../etc/passwd', '/abs2');
    expect(await sftp.readlink('/abs2')).toBe('/etc/passwd');
    await sftp.symlink('../l', '/sub/inside');
    expect(readdirSync(root).filter((n) => n.startsWith('l'))).toEqual([]);
    expectOutsideUntouched(pair);
  });

  it('refuses a path replaced by a symlink between calls', async () => {
    pair = await withSecret();
    const { sftp, root, outside } = pair;
    writeFileSync(join(root, 'victim'), 'mine');
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd', 'f'), 'in d');
    expect((await sftp.stat('/victim')).size).toBe(4);
    expect((await sftp.stat('/d/f')).size).toBe(4);
    const file = await sftp.open('/victim');

    // Swap the file for a link to the secret, and the directory for a link to the outside.
    rmSync(join(root, 'victim'));
    symlinkSync(join(outside, 'secret'), join(root, 'victim'));
    renameSync(join(root, 'd'), join(root, 'd-old'));
    symlinkSync(outside, join(root, 'd'));

    // The handle opened before still reads the original file, never the secret.
    expect(new TextDecoder().decode(await file.read(0, 100))).toBe('mine');
    await file.close();
    for (const operation of [
      () => sftp.readFile('/victim'),
      () => sftp.writeFile('/victim', 'clobber'),
      () => sftp.readFile('/d/secret'),
      () => sftp.writeFile('/d/f', 'x'),
      () => sftp.readdir('/d'),
      () => sftp.stat('/d/secret'),
    ]) {
      expect((await failure(operation())).code).toBe(SftpStatus.PERMISSION_DENIED);
    }
    expectOutsideUntouched(pair);
  });
});

describe('ServerRoot', () => {
  it('maps virtual paths and recognises its own subtree only', () => {
    const root = new ServerRoot('/srv/files');
    expect(root.virtual('a/../../b')).toBe('/b');
    expect(root.contains('/srv/files')).toBe(true);
    expect(root.contains('/srv/files/x')).toBe(true);
    expect(root.contains('/srv/files-other/x')).toBe(false);
    expect(root.contains('/srv')).toBe(false);
    expect(root.toVirtual('/srv/files/x/y')).toBe('/x/y');
    expect(root.linkText('/srv/files/x')).toBe('/x');
    expect(root.linkText('/etc/passwd')).toBe('/etc/passwd');
    expect(root.symlinkTarget('/x/../y', '/l')).toBe('/srv/files/y');
    expect(root.symlinkTarget('a/../b', '/d/l')).toBe('a/../b');
    expect(() => root.symlinkTarget('../../x', '/d/l')).toThrow(/leads outside/);
  });
});
