/**
 * What the SFTP benchmark runs against: a throwaway sshd on 127.0.0.1 whose `Subsystem sftp` is
 * OpenSSH's sftp-server (root logs in by key; the benchmark runs as root like the interop specs),
 * our TcpServer serving serveSftp, and OpenSSH's `sftp` client timed in batch mode.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionConfig } from '../lib/config.js';
import { generateKeyPair } from '../lib/keys/key-pair.js';
import { importKey } from '../lib/keys/index.js';
import { TcpServer } from '../lib/tcp/index.js';
import { serveSftp } from '../lib/sftp/index.js';

/** The cipher every SFTP row negotiates. */
export const SFTP_BENCH_CIPHER = 'aes256-gcm@openssh.com';

/** A scratch directory with a client key pair (for all three clients) and an sshd host key. */
export interface SftpBenchDir {
  dir: string;
  /** Private key file of the client (OpenSSH format). */
  clientKey: string;
  close(): void;
}

/** Makes the directory and keys. */
export function makeBenchDir(): SftpBenchDir {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-streams-sftp-bench-'));
  const clientKey = join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
  return { dir, clientKey, close: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A TCP port on 127.0.0.1 free at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** A running sshd with OpenSSH's sftp-server. */
export interface BenchSshd {
  port: number;
  stop(): Promise<void>;
}

/** Starts sshd -D on a free port offering `ciphers`; resolves once it listens. */
export async function startBenchSshd(bench: SftpBenchDir, ciphers: readonly string[] = [SFTP_BENCH_CIPHER]): Promise<BenchSshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const config = join(bench.dir, 'sshd_config');
  writeFileSync(join(bench.dir, 'authorized_keys'), readFileSync(`${bench.clientKey}.pub`));
  writeFileSync(
    config,
    [
      `HostKey ${join(bench.dir, 'host_ed25519')}`,
      'ListenAddress 127.0.0.1',
      `PidFile ${join(bench.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(bench.dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `Ciphers ${ciphers.join(',')}`,
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      // sshd runs every command and subsystem through the login shell, and Debian's bash reads
      // ~/.bashrc when sshd starts it: with HOME in the scratch directory it reads none, so a
      // benchmark's rows do not carry whatever the bench user's own startup files do (a machine
      // whose root runs `pyenv init` there spent 0.4 s per command on it).
      `SetEnv HOME=${bench.dir}`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      log += text;
      if (log.includes('Server listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`sshd exited with ${code}: ${log}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Our TcpServer serving serveSftp on `root`, trusting the bench client key. */
export async function startOurSftpServer(bench: SftpBenchDir, root: string): Promise<{ port: number; close(): Promise<void> }> {
  const trusted = await importKey(readFileSync(`${bench.clientKey}.pub`, 'utf8'));
  const config = SessionConfig.default();
  config.encryptionAlgorithms = [SFTP_BENCH_CIPHER];
  const server = new TcpServer(config);
  server.credentials = { hostKeys: [await generateKeyPair('ssh-ed25519')] };
  server.onSessionAuthenticating = (e) => e.authenticationType === 'publickey' && e.publicKey !== undefined && e.publicKey.equals(trusted);
  server.onSessionError = () => {};
  server.onSessionOpened = (session) => {
    void (async () => {
      for await (const channel of session.channels) serveSftp(channel, { root, clientVersion: session.remoteVersion });
    })();
  };
  await server.listen(0, '127.0.0.1');
  return { port: server.port!, close: () => server.close() };
}

/**
 * Runs OpenSSH's `sftp -b -` with `commands`; resolves with the seconds from the moment the file
 * `created` (a name in bench.dir that the batch creates: the local file of a `get`, the remote one
 * of a `put`) appears until sftp exits, so connecting and authenticating are not counted; without
 * `created`, the whole run.
 * @throws Error with sftp's output when it fails, or when `created` never appeared
 */
export function timeSftpBatch(bench: SftpBenchDir, port: number, commands: string[], created?: string): Promise<number> {
  const args = ['-F', '/dev/null', '-q', '-P', String(port), '-i', bench.clientKey, '-b', '-'];
  for (const setting of ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'BatchMode=yes', 'IdentitiesOnly=yes', `Ciphers=${SFTP_BENCH_CIPHER}`]) args.push('-o', setting);
  args.push('root@127.0.0.1');
  let start = performance.now();
  let appeared = created === undefined;
  // inotify on the directory: the first event naming the file is its creation (the file is absent before).
  const watcher =
    created === undefined
      ? undefined
      : watch(bench.dir, (_event, name) => {
          if (appeared || name !== created) return;
          appeared = true;
          start = performance.now();
        });
  const child = spawn('/usr/bin/sftp', args, { stdio: ['pipe', 'ignore', 'pipe'], cwd: bench.dir });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin!.end(commands.join('\n') + '\n');
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const end = performance.now();
      watcher?.close();
      if (code !== 0) reject(new Error(`sftp exited with ${code}: ${stderr}`));
      else if (!appeared) reject(new Error(`sftp never created ${created} in ${bench.dir}`));
      else resolve((end - start) / 1000);
    });
  });
}
