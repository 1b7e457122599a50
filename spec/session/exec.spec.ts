import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { serveExec } from '../../lib/session/exec.js';
import { connectionPair, readAll } from '../mux/pair.js';

async function execPair(options?: Parameters<typeof serveExec>[1]) {
  const p = connectionPair();
  const [c, s] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
  serveExec(s, options);
  return { ...p, c, s };
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('serveExec', () => {
  it('runs a command and returns its stdout, stderr and exit status', async () => {
    const p = await execPair();
    expect(await p.c.exec('printf out; printf err >&2; exit 3')).toBe(true);
    const [out, err] = await Promise.all([readAll(p.c.readable), readAll(p.c.stderr)]);
    expect([text(out), text(err)]).toEqual(['out', 'err']);
    expect(await p.c.closed).toEqual({ closedBy: 'remote', exitStatus: 3 });
  });

  it('starts a shell that reads commands from the channel, and refuses it when not allowed', async () => {
    const p = await execPair({ allowPty: false });
    expect(await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 })).toBe(false);
    expect(await p.c.shell()).toBe(true);
    const writer = p.c.writable.getWriter();
    await writer.write(new TextEncoder().encode('echo $((20+22))\nexit 6\n'));
    await writer.close();
    expect(text(await readAll(p.c.readable))).toBe('42\n');
    expect(await p.c.closed).toMatchObject({ exitStatus: 6 });
    const q = await execPair({ allowShell: false });
    expect(await q.c.shell()).toBe(false);
  });

  it('pipes channel data through cat intact', async () => {
    const p = await execPair();
    expect(await p.c.exec('cat')).toBe(true);
    const payload = new Uint8Array(2 << 20).map((_, i) => (i * 7) & 0xff);
    const echoed = readAll(p.c.readable);
    const writer = p.c.writable.getWriter();
    await writer.write(payload);
    await writer.close();
    const hash = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    expect(hash(await echoed)).toBe(hash(payload));
    expect(await p.c.closed).toMatchObject({ exitStatus: 0 });
  });

  it('passes accepted env requests and refuses others', async () => {
    const p = await execPair();
    expect(await p.c.setEnv('LANG', 'C.UTF-8')).toBe(true);
    expect(await p.c.setEnv('PATH', '/nowhere')).toBe(false);
    await p.c.exec('printf %s "$LANG"');
    expect(text(await readAll(p.c.readable))).toBe('C.UTF-8');
  });

  it('delivers a signal request and reports exit-signal', async () => {
    const p = await execPair();
    await p.c.exec('exec sleep 10'); // signals go to the shell's process, as in OpenSSH
    await p.c.signal('TERM');
    expect(await p.c.closed).toMatchObject({ closedBy: 'remote', exitSignal: 'TERM' });
  });

  it('refuses unauthorized commands, pty-req and a second exec', async () => {
    const p = await execPair({ authorize: (command) => command !== 'rm -rf /', allowPty: false });
    expect(await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 })).toBe(false);
    expect(await p.c.exec('rm -rf /')).toBe(false);
    expect(await p.c.exec('cat')).toBe(true);
    expect(await p.c.exec('cat')).toBe(false);
    await p.c.writable.close();
    expect(await p.c.closed).toMatchObject({ exitStatus: 0 });
  });

  it('moves 8 MiB through cat without piling up stdin listeners', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const p = await execPair();
      expect(await p.c.exec('cat')).toBe(true);
      const payload = new Uint8Array(8 << 20).map((_, i) => (i * 13) & 0xff);
      const echoed = readAll(p.c.readable);
      const writer = p.c.writable.getWriter();
      for (let at = 0; at < payload.length; at += 64 * 1024) await writer.write(payload.subarray(at, at + 64 * 1024));
      await writer.close();
      expect((await echoed).length).toBe(payload.length);
      expect(await p.c.closed).toMatchObject({ exitStatus: 0 });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('refuses env entries past the count and byte caps', async () => {
    const p = await execPair({ acceptEnv: () => true, maxEnvEntries: 2, maxEnvBytes: 40 });
    expect(await p.c.setEnv('A', '1')).toBe(true);
    expect(await p.c.setEnv('B', '2')).toBe(true);
    expect(await p.c.setEnv('C', '3')).toBe(false);
    expect(await p.c.setEnv('A', 'x'.repeat(37))).toBe(true);
    expect(await p.c.setEnv('A', 'x'.repeat(38))).toBe(false);
    expect(await p.c.exec('printf %s "$A$B$C"')).toBe(true);
    expect(text(await readAll(p.c.readable))).toBe('x'.repeat(37) + '2');
  });

  it('caps the commands running at once in one session and frees the slot on exit', async () => {
    const p = await execPair({ maxCommandsPerSession: 2 });
    const more = async () => {
      const [c, s] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
      serveExec(s, { maxCommandsPerSession: 2 });
      return c;
    };
    const second = await more();
    const third = await more();
    expect(await p.c.exec('cat')).toBe(true);
    expect(await second.shell()).toBe(true);
    expect(await third.exec('true')).toBe(false);
    await p.c.writable.close();
    expect(await p.c.closed).toMatchObject({ exitStatus: 0 });
    const fourth = await more();
    expect(await fourth.exec('printf ok')).toBe(true);
    expect(text(await readAll(fourth.readable))).toBe('ok');
    await second.writable.close();
    expect(await second.closed).toMatchObject({ exitStatus: 0 });
  });
});
