/**
 * The `ssh-streams` command line against OpenSSH, both ways, as compiled (dist/): OpenSSH's `ssh`
 * and `sftp` log in to `ssh-streams serve` (key and password, exec, exit status, the kept host key
 * and its printed fingerprint, forwarding only when allowed, sftp in --root), and
 * `ssh-streams connect` logs in to sshd (known_hosts policies, exec and exit status, a command with
 * options of its own, -L and -D forwarding, the ssh-agent, a password asked without echo in a tmux pane).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, ensureBuilt } from '../helpers/built-package.js';
import { getFreePort } from '../helpers/free-port.js';
import {
  createOpenSshKey,
  ensureTestUser,
  OPENSSH_PATHS,
  runSsh,
  skipWithoutOpenSsh,
  startSshd,
  type OpenSshKeyFiles,
  type Sshd,
  type TestUser,
} from '../helpers/openssh.js';
import { skipWithoutTmux, TmuxPane } from '../helpers/tmux.js';
import { runCli, startCli, startServe, type ServeProcess } from './cli-process.js';

const skip = skipWithoutOpenSsh() || skipWithoutTmux();
const execFileAsync = promisify(execFile);

describe('ssh-streams arguments', () => {
  beforeAll(() => ensureBuilt());

  it('answers --help for both commands', async () => {
    const serve = await runCli(['serve', '--help']);
    expect([serve.exitCode, serve.stderr]).toEqual([0, '']);
    expect(serve.stdout).toMatch(/^Usage: ssh-streams serve \[options\]/);
    expect(serve.stdout).toContain('SSH_STREAMS_PASSWORD');
    const connect = await runCli(['connect', '-h']);
    expect(connect.exitCode).toBe(0);
    expect(connect.stdout).toMatch(/^Usage: ssh-streams connect \[options\] \[user@\]host \[command\.\.\.\]/);
    expect(connect.stdout).toContain('StrictHostKeyChecking=ask|accept-new|yes|no');
  });

  it.each([
    [['connect'], 255, /Expected one destination, \[user@\]host/],
    [['connect', '-L', '80:web', 'host'], 255, /Forwarding spec "80:web" is not \[bind_address:\]port:host:hostport/],
    [['connect', '-D', '1080:x:y', 'host'], 255, /Forwarding spec "1080:x:y" is not \[bind_address:\]port/],
    [['connect', '-o', 'StrictHostKeyChecking=maybe', 'host'], 255, /expected one of ask, accept-new, yes, no/],
    [['connect', '--bogus', 'host'], 2, /Unknown option '--bogus'.*\(see --help\)/],
    [['serve', '--port', 'http'], 255, /--port http is not a port/],
    [['launch'], 2, /unknown command "launch"; expected serve or connect/],
  ])('refuses %j with a clear message', async (args, status, message) => {
    const result = await runCli(args);
    expect(result.exitCode).toBe(status);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});

describe.skipIf(skip)('ssh and sftp into ssh-streams serve', () => {
  let dir: string;
  let key: OpenSshKeyFiles;
  let server: ServeProcess;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, SSH_STREAMS_PASSWORD: 'serve-Secret-9' });
  const serveArgs = (): string[] => ['--user', 'tester', '--state', join(dir, 'state'), '--authorized-keys', join(dir, 'authorized_keys'), '--root', join(dir, 'root')];

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-serve-'));
    mkdirSync(join(dir, 'root'));
    key = createOpenSshKey('ssh-ed25519', dir);
    writeFileSync(join(dir, 'authorized_keys'), `${key.publicKey}\n`);
    server = await startServe(serveArgs(), { env: env() });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('prints its host key fingerprint and how to connect, and keeps the key in the state folder', async () => {
    const { stdout } = server.output();
    const keyFile = join(dir, 'state', 'ssh_host_ed25519_key');
    const fingerprint = execFileSync(OPENSSH_PATHS.sshKeygen, ['-lf', keyFile], { encoding: 'utf8' }).split(' ')[1]!;
    expect(stdout).toContain(`Host key: ${fingerprint} (ssh-ed25519, new, ${keyFile})`);
    expect(stdout).toContain(`ssh -p ${server.port} tester@127.0.0.1`);
    expect(stdout).toContain(`npx ssh-streams connect -p ${server.port} tester@127.0.0.1`);
    const again = await startServe(serveArgs(), { env: env() });
    try {
      expect(again.output().stdout).toContain(`Host key: ${fingerprint} (ssh-ed25519, ${keyFile})`);
    } finally {
      await again.stop();
    }
  });

  it('runs commands for a key from authorized_keys and for the password, with their exit status, in --root', async () => {
    const byKey = await runSsh(['echo "from-serve $(pwd)"; exit 3'], { port: server.port, user: 'tester', identityFile: key.privatePath, authentication: 'publickey' });
    expect(byKey.stdout).toBe(`from-serve ${join(dir, 'root')}\n`);
    expect(byKey.exitCode).toBe(3);
    const byPassword = await runSsh(['echo ok'], { port: server.port, user: 'tester', password: 'serve-Secret-9', authentication: 'password' });
    expect([byPassword.exitCode, byPassword.stdout]).toEqual([0, 'ok\n']);
    const wrong = await runSsh(['echo ok'], { port: server.port, user: 'tester', password: 'nope', authentication: 'password' });
    expect(wrong.exitCode).toBe(255);
    const otherUser = await runSsh(['echo ok'], { port: server.port, user: 'mallory', identityFile: key.privatePath, authentication: 'publickey' });
    expect(otherUser.exitCode).toBe(255);
  });

  it('refuses forwarding unless --allow-forwarding', async () => {
    const flags = ['-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9'];
    const refused = await runSsh(['true'], { port: server.port, user: 'tester', identityFile: key.privatePath, flags });
    expect(refused.exitCode).toBe(255);
    expect(refused.stderr).toMatch(/remote port forwarding failed/);
    const open = await startServe([...serveArgs(), '--allow-forwarding'], { env: env() });
    try {
      const allowed = await runSsh(['true'], { port: open.port, user: 'tester', identityFile: key.privatePath, flags });
      expect(allowed.exitCode).toBe(0);
    } finally {
      await open.stop();
    }
  });

  it('serves sftp in --root', async () => {
    writeFileSync(join(dir, 'upload.txt'), 'sftp through serve\n');
    writeFileSync(join(dir, 'batch'), `put ${join(dir, 'upload.txt')} copied.txt\nls\n`);
    const sftp = execFileSync(
      'sftp',
      ['-F', '/dev/null', '-P', String(server.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', `IdentityFile=${key.privatePath}`, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-b', join(dir, 'batch'), 'tester@127.0.0.1'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(sftp).toMatch(/copied\.txt/);
    expect(readFileSync(join(dir, 'root', 'copied.txt'), 'utf8')).toBe('sftp through serve\n');
  });
});

describe.skipIf(skip)('ssh-streams connect to sshd', () => {
  let sshd: Sshd;
  let user: TestUser;
  let dir: string;
  let key: OpenSshKeyFiles;
  let known: string;

  beforeAll(async () => {
    ensureBuilt();
    user = ensureTestUser();
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-connect-'));
    key = createOpenSshKey('ssh-ed25519', dir);
    sshd = await startSshd({ authorizedKeys: [key.publicKey] });
    known = join(dir, 'known_hosts');
  });
  afterAll(async () => {
    await sshd?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const connectArgs = (policy: string, ...rest: string[]): string[] => [
    'connect',
    '-p',
    String(sshd.port),
    '-i',
    key.privatePath,
    '-o',
    `UserKnownHostsFile=${known}`,
    '-o',
    `StrictHostKeyChecking=${policy}`,
    `${user.username}@127.0.0.1`,
    ...rest,
  ];

  it('refuses an unknown host key in strict mode, adds it with accept-new, then knows it', async () => {
    rmSync(known, { force: true });
    const strict = await runCli(connectArgs('yes', 'printf hi; exit 5'));
    expect(strict.exitCode).toBe(255);
    expect(strict.stderr).toMatch(/No \S+ host key is known for \[127\.0\.0\.1\]:\d+ and strict host key checking is on/);
    expect(strict.stdout).toBe('');
    expect(existsSync(known)).toBe(false);

    const added = await runCli(connectArgs('accept-new', 'printf hi; exit 5'));
    expect([added.exitCode, added.stdout]).toEqual([5, 'hi']);
    expect(added.stderr).toMatch(/Permanently added '\[127\.0\.0\.1\]:\d+'/);
    expect(readFileSync(known, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} \\S+ \\S+\\n$`));

    const knownNow = await runCli(connectArgs('yes', 'echo out; echo err >&2; exit 7'));
    expect([knownNow.exitCode, knownNow.stdout, knownNow.stderr]).toEqual([7, 'out\n', 'err\n']);
  });

  it('prints diagnostics with -v and -vv like ssh, and every message only with -vvv', async () => {
    const twice = await runCli(['connect', '-vv', ...connectArgs('accept-new', 'printf hi').slice(1)]);
    expect([twice.exitCode, twice.stdout]).toEqual([0, 'hi']);
    expect(twice.stderr).toMatch(/^debug1: Remote version: SSH-2\.0-OpenSSH_/m);
    expect(twice.stderr).toMatch(/^debug1: Key exchange completed: kex \S+, host key \S+ SHA256:/m);
    expect(twice.stderr).toMatch(/^debug1: Authentication succeeded \(publickey/m);
    expect(twice.stderr).toMatch(/^debug2: Channel open sent: session, window 2097152/m);
    expect(twice.stderr).toMatch(/^debug2: Channel request received: exit-status/m);
    expect(twice.stderr).not.toMatch(/^debug3:/m);
    const thrice = await runCli(['connect', '-vvv', ...connectArgs('accept-new', 'true').slice(1)]);
    expect(thrice.exitCode).toBe(0);
    expect(thrice.stderr).toMatch(/^debug3: Sent UserauthRequest \(50\), \d+ bytes$/m);
    const quiet = await runCli(connectArgs('accept-new', 'true'));
    expect(quiet.stderr).not.toMatch(/debug\d:/);
  });

  it('passes a command with options of its own after --, and stdin to it', async () => {
    const listed = await runCli(connectArgs('accept-new', '--', 'ls', '-d', '/'));
    expect([listed.exitCode, listed.stdout]).toEqual([0, '/\n']);
    const upper = await runCli(connectArgs('accept-new', 'tr a-z A-Z'), { input: 'piped through\n' });
    expect([upper.exitCode, upper.stdout]).toEqual([0, 'PIPED THROUGH\n']);
  });

  it('forwards a local port with -L until SIGTERM', async () => {
    const echo: Server = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoPort = (echo.address() as { port: number }).port;
    const localPort = await getFreePort();
    const forward = startCli(connectArgs('accept-new', '-N', '-L', `${localPort}:127.0.0.1:${echoPort}`));
    try {
      await expect.poll(() => echoThrough(localPort, 'through -L'), { timeout: 20_000, interval: 200 }).toBe('through -L');
      forward.child.kill('SIGTERM');
      expect((await forward.result).exitCode).toBe(0);
    } finally {
      forward.child.kill('SIGKILL');
      echo.close();
    }
  });

  it('serves SOCKS with -D: curl reaches a local HTTP server through sshd', async () => {
    const web: Server = createHttpServer((_request, response) => response.end('through -D\n'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const webPort = (web.address() as { port: number }).port;
    const socksPort = await getFreePort();
    const forward = startCli(connectArgs('accept-new', '-N', '-D', `127.0.0.1:${socksPort}`));
    const viaSocks = async (): Promise<string> => {
      try {
        const args = ['-s', '--max-time', '5', '--socks5-hostname', `127.0.0.1:${socksPort}`, `http://localhost:${webPort}/`];
        return (await execFileAsync('curl', args, { encoding: 'utf8' })).stdout;
      } catch {
        return '';
      }
    };
    try {
      await expect.poll(viaSocks, { timeout: 20_000, interval: 200 }).toBe('through -D\n');
      forward.child.kill('SIGTERM');
      expect((await forward.result).exitCode).toBe(0);
    } finally {
      forward.child.kill('SIGKILL');
      web.close();
    }
  });

  it('logs in with the identities of the ssh-agent at SSH_AUTH_SOCK', async () => {
    // HOME without keys and no -i: only the agent holds the key.
    const home = join(dir, 'agent-home');
    mkdirSync(home, { recursive: true });
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await expect.poll(() => existsSync(socket), { timeout: 10_000, interval: 50 }).toBe(true);
      const env = { ...process.env, HOME: home, SSH_AUTH_SOCK: socket };
      await execFileAsync('ssh-add', [key.privatePath], { env });
      const args = ['connect', '-p', String(sshd.port), '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=accept-new'];
      const viaAgent = await runCli([...args, `${user.username}@127.0.0.1`, 'echo agent-$((4+3))'], { env, input: '' });
      expect([viaAgent.exitCode, viaAgent.stdout]).toEqual([0, 'agent-7\n']);
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('asks for the password without echo in a terminal', async () => {
    const password = user.password;
    const args = ['connect', '-p', String(sshd.port), '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=accept-new', `${user.username}@127.0.0.1`, 'echo logged-in-$((2+3))'];
    // HOME without keys, so that only the password can log in.
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    const pane = TmuxPane.start({ command: [process.execPath, CLI_PATH, ...args.map((a) => `'${a}'`)].join(' '), columns: 100, rows: 20, env: { ...process.env, HOME: home } });
    try {
      await pane.waitFor(new RegExp(`${user.username}@127\\.0\\.0\\.1's password:$`, 'm'));
      pane.type(password);
      pane.press('Enter');
      await pane.waitFor(/^logged-in-5$/m);
      expect(await pane.waitForExit()).toBe(0);
      expect(pane.screen()).not.toContain(password);
    } finally {
      pane.kill();
    }
  });
});

/** Sends `text` through a TCP port and reads the reply until the peer ends it; '' when nothing listens yet. */
function echoThrough(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.length >= text.length) socket.end();
    });
    socket.once('connect', () => socket.write(text));
    socket.once('error', () => resolve(''));
    socket.once('close', () => resolve(reply));
  });
}
