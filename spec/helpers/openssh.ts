/**
 * Real OpenSSH for interop specs, on 127.0.0.1 only: `sshd` started from a throwaway config with
 * its own host keys, a local test account, `ssh -Q` algorithm lists and the CI guard that turns a
 * missing OpenSSH into a failure rather than a skip. The `ssh` client side lives in
 * `openssh-client.ts` and is re-exported here, so specs import one module.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getFreePort } from './free-port.js';
import { OPENSSH_PATHS, createOpenSshKey, type OpenSshKeyType } from './openssh-client.js';

export * from './openssh-client.js';

/** Every host key type `startSshd` serves by default. */
export const HOST_KEY_TYPES: readonly OpenSshKeyType[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
];

/**
 * Why OpenSSH interop cannot run here, or undefined when it can.
 * @returns a sentence naming what is missing
 */
export function openSshUnavailableReason(): string | undefined {
  const missing = Object.values(OPENSSH_PATHS).filter((path) => !existsSync(path));
  if (missing.length > 0) return `Missing ${missing.join(', ')}`;
  if (process.getuid?.() !== 0) return `sshd needs root to switch users, running as uid ${process.getuid?.()}`;
  return undefined;
}

/**
 * True when `sshd`, `ssh`, `ssh-keygen` and `sshpass` are installed and the process is root.
 * @returns whether interop specs can run
 */
export function hasOpenSsh(): boolean {
  return openSshUnavailableReason() === undefined;
}

function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * Decides whether an interop spec skips: it may only skip outside CI. Use as
 * `describe.skipIf(skipWithoutOpenSsh())(...)`.
 * @param probe the environment and the unavailability reason (defaults: the real ones)
 * @returns true to skip (OpenSSH missing, not under CI); false to run
 * @throws Error when OpenSSH is missing and `CI` is set, so the spec file fails loudly
 */
export function skipWithoutOpenSsh(
  probe: { env?: NodeJS.ProcessEnv; reason?: string | undefined } = {},
): boolean {
  const reason = 'reason' in probe ? probe.reason : openSshUnavailableReason();
  if (reason === undefined) return false;
  if (isCi(probe.env ?? process.env)) {
    throw new Error(
      `OpenSSH interop specs must run under CI but cannot: ${reason}. ` +
        'Install openssh-server, openssh-client and sshpass (.ci/run does) and run as root',
    );
  }
  return true;
}

/** The local account that OpenSSH interop logs in as. */
export interface TestUser {
  username: string;
  password: string;
  home: string;
}

const TEST_USER: TestUser = { username: 'sshstreams', password: 'ssh-streams-Interop-1', home: '/home/sshstreams' };
let testUserReady = false;

function userExists(username: string): boolean {
  try {
    execFileSync('id', ['-u', username], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates (once) the local user `sshstreams` with a home, a shell and a known password.
 * Safe to call from parallel spec files: a lost race on useradd or the shadow lock is retried.
 * @returns the account's name, password and home directory
 */
export function ensureTestUser(): TestUser {
  if (testUserReady) return TEST_USER;
  for (let attempt = 0; ; attempt++) {
    try {
      if (!userExists(TEST_USER.username)) {
        execFileSync('useradd', ['-m', '-d', TEST_USER.home, '-s', '/bin/bash', TEST_USER.username], {
          stdio: 'pipe',
        });
      }
      execFileSync('chpasswd', [], { input: `${TEST_USER.username}:${TEST_USER.password}\n`, stdio: 'pipe' });
      break;
    } catch (error) {
      if (attempt >= 10) throw new Error(`Cannot prepare user ${TEST_USER.username}`, { cause: error });
      execFileSync('sleep', ['0.2']);
    }
  }
  testUserReady = true;
  return TEST_USER;
}

let hostKeyCache: { dir: string; keys: Map<OpenSshKeyType, string> } | undefined;

/** Host keys are made once per process: RSA key creation is the slow part of starting sshd. */
function hostKeys(): { dir: string; keys: Map<OpenSshKeyType, string> } {
  if (hostKeyCache !== undefined) return hostKeyCache;
  const dir = mkdtempSync(join(tmpdir(), 'ssh-streams-hostkeys-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const keys = new Map<OpenSshKeyType, string>();
  for (const type of HOST_KEY_TYPES) keys.set(type, createOpenSshKey(type, dir).privatePath);
  hostKeyCache = { dir, keys };
  return hostKeyCache;
}

/** Options of {@link startSshd}. Algorithm lists become the matching sshd_config keywords. */
export interface SshdOptions {
  hostKeyTypes?: readonly OpenSshKeyType[];
  kexAlgorithms?: readonly string[];
  ciphers?: readonly string[];
  macs?: readonly string[];
  hostKeyAlgorithms?: readonly string[];
  pubkeyAcceptedAlgorithms?: readonly string[];
  /** Lines of the authorized_keys file every user shares (`ssh-ed25519 AAAA... comment`). */
  authorizedKeys?: readonly string[];
  /** Default true. */
  passwordAuthentication?: boolean;
  /** Default true. Without PAM, OpenSSH on Linux has no keyboard-interactive device; set `usePam`. */
  kbdInteractiveAuthentication?: boolean;
  /** Default false. */
  usePam?: boolean;
  /** Default DEBUG1; DEBUG3 shows every packet type. */
  logLevel?: 'INFO' | 'VERBOSE' | 'DEBUG1' | 'DEBUG2' | 'DEBUG3';
  /** The `Subsystem sftp` command (default `internal-sftp`; `/usr/lib/openssh/sftp-server` runs OpenSSH's own binary). */
  sftpServer?: string;
  /** Further sshd_config lines, appended last. */
  extraConfig?: readonly string[];
  /** How long to wait for the listening socket (default 15 s). */
  startTimeoutMs?: number;
}

/** A running sshd. */
export interface Sshd {
  host: '127.0.0.1';
  port: number;
  /** Private host key file per key type; the public key is the same path plus `.pub`. */
  hostKeys: Partial<Record<OpenSshKeyType, string>>;
  /** Directory holding sshd_config, authorized_keys and the pid file. */
  dir: string;
  /** Everything sshd wrote to stderr so far. */
  logs(): string;
  /** Resolves once the log matches `pattern`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Stops sshd (and waits for it) and deletes its directory. */
  stop(): Promise<void>;
}

function sshdConfig(options: SshdOptions, dir: string, keys: Record<string, string>): string {
  const yesNo = (value: boolean | undefined, fallback: boolean): string => ((value ?? fallback) ? 'yes' : 'no');
  const lines = [
    ...Object.values(keys).map((path) => `HostKey ${path}`),
    'ListenAddress 127.0.0.1',
    `PidFile ${join(dir, 'sshd.pid')}`,
    `UsePAM ${yesNo(options.usePam, false)}`,
    'StrictModes no',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    `PasswordAuthentication ${yesNo(options.passwordAuthentication, true)}`,
    `KbdInteractiveAuthentication ${yesNo(options.kbdInteractiveAuthentication, true)}`,
    'PermitRootLogin no',
    'PermitEmptyPasswords no',
    `LogLevel ${options.logLevel ?? 'DEBUG1'}`,
    'AllowTcpForwarding yes',
    'AllowStreamLocalForwarding yes',
    'GatewayPorts no',
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'MaxAuthTries 10',
    'MaxSessions 20',
    'MaxStartups 100',
    'AcceptEnv LANG LC_* SSH_STREAMS_*',
    `Subsystem sftp ${options.sftpServer ?? 'internal-sftp'}`,
  ];
  const lists: [string, readonly string[] | undefined][] = [
    ['KexAlgorithms', options.kexAlgorithms],
    ['Ciphers', options.ciphers],
    ['MACs', options.macs],
    ['HostKeyAlgorithms', options.hostKeyAlgorithms],
    ['PubkeyAcceptedAlgorithms', options.pubkeyAcceptedAlgorithms],
  ];
  for (const [keyword, names] of lists) if (names !== undefined) lines.push(`${keyword} ${names.join(',')}`);
  lines.push(...(options.extraConfig ?? []));
  return lines.join('\n') + '\n';
}

/** One launch on one port; resolves when listening, rejects with the log if sshd exits first. */
function launch(configPath: string, port: number, timeoutMs: number) {
  const child = spawn(OPENSSH_PATHS.sshd, ['-D', '-e', '-f', configPath, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const listeners = new Set<() => void>();
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    log += text;
    for (const listener of listeners) listener();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const watchdog = orphanWatchdog(child.pid!, dirname(configPath));
  void exited.then(() => watchdog.kill());
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const check = (): void => {
      if (/Server listening on 127\.0\.0\.1 port \d+/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    listeners.add(check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code ?? signal} before listening on port ${port}:\n${log}`));
    });
  });
  return { child, ready, exited, logs: () => log, listeners };
}

/**
 * Kills sshd if this process dies without stopping it (a worker killed by a signal runs no exit
 * handlers), so no listener outlives the spec run.
 */
function orphanWatchdog(sshdPid: number, dir: string): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill "$2" 2>/dev/null; rm -rf "$3"';
  const watchdog = spawn('/bin/sh', ['-c', script, 'sh', String(process.pid), String(sshdPid), dir], {
    stdio: 'ignore',
    detached: true,
  });
  watchdog.unref();
  return watchdog;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts `sshd -D -e` on a free 127.0.0.1 port with a config of its own.
 * @param options algorithms, authentication methods, authorized keys and log level
 * @returns the running server once its port accepts connections
 * @throws Error with sshd's log when it fails to start
 */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  // Privilege separation needs this directory; a fresh container has no /run/sshd.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const { keys } = hostKeys();
  const chosen: Partial<Record<OpenSshKeyType, string>> = {};
  for (const type of options.hostKeyTypes ?? HOST_KEY_TYPES) chosen[type] = keys.get(type)!;

  const dir = mkdtempSync(join(tmpdir(), 'ssh-streams-sshd-'));
  // sshd reads authorized_keys as the logged-in user, so the directory must be traversable.
  chmodSync(dir, 0o755);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, (options.authorizedKeys ?? []).map((line) => line.trim() + '\n').join(''));
  chmodSync(authorizedKeys, 0o644);
  const configPath = join(dir, 'sshd_config');
  writeFileSync(configPath, sshdConfig(options, dir, chosen as Record<string, string>));

  const timeoutMs = options.startTimeoutMs ?? 15_000;
  for (let attempt = 1; ; attempt++) {
    const port = await getFreePort();
    const run = launch(configPath, port, timeoutMs);
    const onExit = (): void => void run.child.kill('SIGKILL');
    process.once('exit', onExit);
    try {
      await run.ready;
    } catch (error) {
      process.off('exit', onExit);
      // Another process may have taken the port between the probe and the bind.
      if (attempt < 5 && /Address already in use|Cannot bind any address/.test(run.logs())) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      host: '127.0.0.1',
      port,
      hostKeys: chosen,
      dir,
      logs: run.logs,
      waitForLog(pattern, waitMs = 10_000) {
        return new Promise((resolve, reject) => {
          const check = (): boolean => {
            const match = run.logs().match(pattern);
            if (match === null) return false;
            run.listeners.delete(listener);
            clearTimeout(timer);
            resolve(match);
            return true;
          };
          const listener = (): void => void check();
          const timer = setTimeout(() => {
            run.listeners.delete(listener);
            reject(new Error(`sshd log did not match ${pattern} within ${waitMs} ms:\n${run.logs()}`));
          }, waitMs);
          run.listeners.add(listener);
          check();
        });
      },
      async stop() {
        await stopChild(run.child, run.exited);
        process.off('exit', onExit);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/**
 * Reads the public half of a host key as an authorized_keys/known_hosts line.
 * @param sshd the running server
 * @param type which host key
 * @returns `type base64 comment`
 */
export function hostPublicKey(sshd: Sshd, type: OpenSshKeyType): string {
  const path = sshd.hostKeys[type];
  if (path === undefined) throw new Error(`sshd on port ${sshd.port} has no ${type} host key`);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}
