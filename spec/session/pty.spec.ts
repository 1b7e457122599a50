import { describe, expect, it } from 'vitest';
import { serveExec, type ExecOptions } from '../../lib/session/exec.js';
import { TerminalMode } from '../../lib/codec/messages/session-requests.js';
import type { Channel } from '../../lib/mux/channel.js';
import { connectionPair, readAll } from '../mux/pair.js';

async function execPair(options?: ExecOptions) {
  const p = connectionPair();
  const [c, s] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
  serveExec(s, options);
  return { ...p, c, s };
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Reads the channel until its text so far matches `pattern`; the reader stays usable. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, pattern: RegExp, seen = { text: '' }) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No ${pattern} within 20 s; got ${JSON.stringify(seen.text)}`)), 20_000);
  });
  try {
    while (!pattern.test(seen.text)) {
      const { value, done } = await Promise.race([reader.read(), late]);
      if (done) throw new Error(`Channel ended before ${pattern}; got ${JSON.stringify(seen.text)}`);
      seen.text += text(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return seen.text.match(pattern)!;
}

/** The prompt of a login `sh` (Debian's /etc/profile sets PS1 to "# " or "$ "). */
const PROMPT = /[#$] $/;

async function writeLine(channel: Channel, line: string): Promise<void> {
  const writer = channel.writable.getWriter();
  await writer.write(encode(line));
  writer.releaseLock();
}

describe('serveExec with a pseudo-terminal (node-pty)', () => {
  it('runs exec in a terminal of the pty-req size and TERM', async () => {
    const p = await execPair();
    expect(await p.c.requestPty({ term: 'vt220', columns: 101, rows: 33 })).toBe(true);
    expect(await p.c.exec('tty; stty size; printf "%s\\n" "$TERM"; exit 3')).toBe(true);
    const out = text(await readAll(p.c.readable));
    // A terminal turns \n into \r\n (ONLCR): the output went through a real line discipline.
    expect(out).toMatch(/^\/dev\/pts\/\d+\r\n33 101\r\nvt220\r\n$/);
    expect(await p.c.closed).toEqual({ closedBy: 'remote', exitStatus: 3 });
  });

  it('applies the terminal modes of pty-req', async () => {
    const p = await execPair();
    const modes = { [TerminalMode.ECHO]: 0, [TerminalMode.VINTR]: 0x07, [TerminalMode.ICANON]: 1 };
    expect(await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24, modes })).toBe(true);
    expect(await p.c.exec('stty -a')).toBe(true);
    const out = text(await readAll(p.c.readable));
    expect(out).toMatch(/intr = \^G;/);
    expect(out).toMatch(/(^|\s)-echo(\s|$)/m);
    expect(out).toMatch(/(^|\s)icanon(\s|$)/m);
  });

  it('resizes the terminal on window-change', async () => {
    const p = await execPair();
    await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 });
    // The shell prints the size at start and again after each line it reads.
    expect(await p.c.exec('stty size; while read line; do stty size; done')).toBe(true);
    const reader = p.c.readable.getReader();
    const seen = { text: '' };
    await readUntil(reader, /24 80\r\n/, seen);
    await p.c.resizePty({ columns: 132, rows: 50 });
    await writeLine(p.c, 'x\r');
    await readUntil(reader, /50 132\r\n/, seen);
    await p.c.close();
  });

  it('starts the login shell with a prompt and echo, and ends with its exit status', async () => {
    const p = await execPair({ loginShell: '/bin/sh', env: { PATH: process.env.PATH } });
    await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 });
    expect(await p.c.shell()).toBe(true);
    const reader = p.c.readable.getReader();
    const seen = { text: '' };
    await readUntil(reader, PROMPT, seen);
    await writeLine(p.c, 'echo $((6*7))\r');
    // The terminal echoes the typed line, then the shell prints the result.
    await readUntil(reader, /echo \$\(\(6\*7\)\)\r\n42\r\n/, seen);
    await writeLine(p.c, 'exit 5\r');
    reader.releaseLock();
    await readAll(p.c.readable);
    expect(await p.c.closed).toMatchObject({ exitStatus: 5 });
  });

  it('interrupts the foreground program on Ctrl-C and delivers signal requests', async () => {
    const p = await execPair({ loginShell: '/bin/sh', env: { PATH: process.env.PATH } });
    await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 });
    await p.c.shell();
    const reader = p.c.readable.getReader();
    const seen = { text: '' };
    await readUntil(reader, PROMPT, seen);
    await writeLine(p.c, 'sleep 30\r');
    await readUntil(reader, /sleep 30\r\n/, seen);
    await writeLine(p.c, '\x03');
    // The line discipline turns ^C into SIGINT for the foreground job and echoes it.
    await readUntil(reader, /\^C\r\n[#$] $/, seen);
    await writeLine(p.c, 'echo "status=$?"\r');
    await readUntil(reader, /status=130\r\n/, seen);
    await p.c.signal('KILL');
    reader.releaseLock();
    await readAll(p.c.readable);
    expect(await p.c.closed).toMatchObject({ closedBy: 'remote', exitSignal: 'KILL' });
  });

  it('refuses pty-req once a command runs, unknown signals, and pty-req when terminals are off', async () => {
    const p = await execPair();
    await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 });
    await p.c.exec('cat');
    expect(await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 })).toBe(false);
    expect(await p.c.request({ requestType: 'signal', wantReply: true, data: signalData('NOPE') })).toBe(false);
    await p.c.signal('TERM');
    expect(await p.c.closed).toMatchObject({ exitSignal: 'TERM' });
    const q = await execPair({ allowPty: false });
    expect(await q.c.requestPty({ term: 'xterm', columns: 80, rows: 24 })).toBe(false);
  });

  it('hangs up the terminal when the client closes the channel', async () => {
    const p = await execPair();
    await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 });
    await p.c.exec('echo $$; exec sleep 30');
    const reader = p.c.readable.getReader();
    const [, pid] = await readUntil(reader, /(\d+)\r\n/);
    await p.c.close();
    await expect.poll(() => isAlive(Number(pid)), { timeout: 10_000 }).toBe(false);
  });
});

describe('serveExec without node-pty', () => {
  const missing: ExecOptions['loadPty'] = () => Promise.reject(new Error("Cannot find package 'node-pty'"));

  it('refuses pty-req, says so once, and still serves exec and a pipe shell', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const p = await execPair({ loadPty: missing, loginShell: '/bin/sh' });
      expect(await p.c.requestPty({ term: 'xterm', columns: 80, rows: 24 })).toBe(false);
      expect(await p.c.shell()).toBe(true);
      const writer = p.c.writable.getWriter();
      await writer.write(encode('tty || echo no-tty; echo $((20+22)); exit 4\n'));
      await writer.close();
      expect(text(await readAll(p.c.readable))).toBe('not a tty\nno-tty\n42\n');
      expect(await p.c.closed).toMatchObject({ exitStatus: 4 });

      const q = await execPair({ loadPty: missing });
      expect(await q.c.requestPty({ term: 'xterm', columns: 80, rows: 24 })).toBe(false);
      expect(await q.c.exec('printf ok; exit 2')).toBe(true);
      expect(text(await readAll(q.c.readable))).toBe('ok');
      expect(await q.c.closed).toMatchObject({ exitStatus: 2 });
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'SSH_STREAMS_NO_PTY');
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toMatch(/node-pty could not be loaded \(Cannot find package 'node-pty'\)/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

function signalData(name: string): Uint8Array {
  const bytes = encode(name);
  const data = new Uint8Array(4 + bytes.length);
  new DataView(data.buffer).setUint32(0, bytes.length);
  data.set(bytes, 4);
  return data;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
