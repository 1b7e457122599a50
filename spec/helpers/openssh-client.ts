/**
 * The OpenSSH client side of interop: `ssh` runs with no user config against a port on 127.0.0.1,
 * with `-v` so the negotiated algorithms can be read back, passwords fed through `sshpass`, and
 * keys made with `ssh-keygen`. Knows nothing of sshd; `openssh.ts` starts servers and re-exports this.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's openssh-server, openssh-client and sshpass install their programs. */
export const OPENSSH_PATHS = {
  sshd: '/usr/sbin/sshd',
  ssh: '/usr/bin/ssh',
  sshKeygen: '/usr/bin/ssh-keygen',
  sshpass: '/usr/bin/sshpass',
} as const;

/** Key types `ssh-keygen` can make, by their SSH key type name. */
export type OpenSshKeyType =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'ssh-rsa';

const KEYGEN_ARGS: Record<OpenSshKeyType, string[]> = {
  'ssh-ed25519': ['-t', 'ed25519'],
  'ecdsa-sha2-nistp256': ['-t', 'ecdsa', '-b', '256'],
  'ecdsa-sha2-nistp384': ['-t', 'ecdsa', '-b', '384'],
  'ecdsa-sha2-nistp521': ['-t', 'ecdsa', '-b', '521'],
  'ssh-rsa': ['-t', 'rsa', '-b', '3072'],
};

/** A key pair on disk in OpenSSH format. */
export interface OpenSshKeyFiles {
  type: OpenSshKeyType;
  privatePath: string;
  publicPath: string;
  /** The public key line, `type base64 comment`. */
  publicKey: string;
}

/**
 * Makes a key pair with `ssh-keygen` (no passphrase unless given), mode 0600.
 * @param type the key type
 * @param dir directory for `id_<type>` and `id_<type>.pub`
 * @param passphrase optional passphrase for the private key
 * @returns the file paths and the public key line
 */
export function createOpenSshKey(type: OpenSshKeyType, dir: string, passphrase = ''): OpenSshKeyFiles {
  const privatePath = join(dir, `id_${type}`);
  execFileSync(OPENSSH_PATHS.sshKeygen, ['-q', ...KEYGEN_ARGS[type], '-N', passphrase, '-C', type, '-f', privatePath], {
    stdio: 'pipe',
  });
  chmodSync(privatePath, 0o600);
  const publicPath = `${privatePath}.pub`;
  return { type, privatePath, publicPath, publicKey: readFileSync(publicPath, 'utf8').trim() };
}

/** What `ssh -Q` can list. */
export type SshQueryKind = 'kex' | 'cipher' | 'cipher-auth' | 'mac' | 'key' | 'key-sig' | 'sig';

const queryCache = new Map<SshQueryKind, string[]>();

/**
 * The algorithms this OpenSSH build supports, from `ssh -Q`.
 * @param kind which list
 * @returns the wire names, in OpenSSH's order
 */
export function sshQuery(kind: SshQueryKind): string[] {
  let names = queryCache.get(kind);
  if (names === undefined) {
    names = execFileSync(OPENSSH_PATHS.ssh, ['-Q', kind], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    queryCache.set(kind, names);
  }
  return [...names];
}

/** One direction's algorithms as `ssh -v` reports them. */
export interface DirectionAlgorithms {
  cipher: string;
  /** `<implicit>` for AEAD ciphers. */
  mac: string;
  compression: string;
}

/** What `ssh -v` says was negotiated; fields stay undefined when the log never got that far. */
export interface NegotiatedAlgorithms {
  kex?: string;
  hostKey?: string;
  serverToClient?: DirectionAlgorithms;
  clientToServer?: DirectionAlgorithms;
  /** The server's identification, e.g. `OpenSSH_9.2p1 Debian-2+deb12u3`. */
  remoteSoftware?: string;
  /** The method `ssh` reports it authenticated with (`password`, `publickey`, ...). */
  authMethod?: string;
}

/**
 * Reads the negotiated algorithms out of `ssh -v` output.
 * @param log ssh's stderr
 * @returns the algorithms found
 */
export function parseNegotiated(log: string): NegotiatedAlgorithms {
  const found: NegotiatedAlgorithms = {};
  const first = (pattern: RegExp): RegExpMatchArray | null => log.match(pattern);
  const kex = first(/^debug1: kex: algorithm: (\S+)/m);
  if (kex) found.kex = kex[1]!;
  const hostKey = first(/^debug1: kex: host key algorithm: (\S+)/m);
  if (hostKey) found.hostKey = hostKey[1]!;
  for (const [direction, key] of [
    ['server->client', 'serverToClient'],
    ['client->server', 'clientToServer'],
  ] as const) {
    const match = first(new RegExp(`^debug1: kex: ${direction} cipher: (\\S+) MAC: (\\S+) compression: (\\S+)`, 'm'));
    if (match) found[key] = { cipher: match[1]!, mac: match[2]!, compression: match[3]! };
  }
  const software = first(/^debug1: Remote protocol version [\d.]+, remote software version (.+?)\r?$/m);
  if (software) found.remoteSoftware = software[1]!;
  const auth = first(/^(?:debug1: )?Authenticated to .* using "([^"]+)"/m);
  if (auth) found.authMethod = auth[1]!;
  return found;
}

/** Options of {@link spawnSsh} and {@link runSsh}. */
export interface SshRunOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default the test user `sshstreams`. */
  user?: string;
  /** Fed to the password or keyboard-interactive prompt through `sshpass`. */
  password?: string;
  identityFile?: string;
  /** Becomes `PreferredAuthentications`. */
  authentication?: 'password' | 'keyboard-interactive' | 'publickey' | 'none';
  /** Extra `-o Key=Value` settings, e.g. `{ KexAlgorithms: 'curve25519-sha256' }`. */
  options?: Record<string, string>;
  /** Flags placed before the destination, e.g. `['-N', '-L', '9000:127.0.0.1:80']`. */
  flags?: readonly string[];
  /** Written to ssh's stdin, which is then closed; stdin is /dev/null without it. */
  input?: string | Uint8Array;
  /** Kill ssh after this long (default 30 s). */
  timeoutMs?: number;
}

/** How an `ssh` run ended. */
export interface SshResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  negotiated: NegotiatedAlgorithms;
}

/** A running `ssh`. */
export interface SshProcess {
  child: ChildProcess;
  /** Settles when ssh (and sshpass) exit. */
  result: Promise<SshResult>;
  /** Kills the whole process group. */
  kill(signal?: NodeJS.Signals): void;
}

function sshArgv(args: readonly string[], options: SshRunOptions): string[] {
  const usesPassword = options.password !== undefined;
  const settings: Record<string, string> = {
    StrictHostKeyChecking: 'no',
    UserKnownHostsFile: '/dev/null',
    GlobalKnownHostsFile: '/dev/null',
    BatchMode: usesPassword ? 'no' : 'yes',
    ConnectTimeout: '10',
    IdentitiesOnly: 'yes',
    IdentityAgent: 'none',
    IdentityFile: options.identityFile ?? 'none',
    NumberOfPasswordPrompts: '1',
    ...(options.authentication ? { PreferredAuthentications: options.authentication } : {}),
    ...options.options,
  };
  const argv = ['-F', '/dev/null', '-v', '-p', String(options.port)];
  for (const [key, value] of Object.entries(settings)) argv.push('-o', `${key}=${value}`);
  argv.push(...(options.flags ?? []), `${options.user ?? 'sshstreams'}@${options.host ?? '127.0.0.1'}`, ...args);
  return argv;
}

/**
 * Starts `ssh -F /dev/null -v -p PORT user@host ARGS`, through `sshpass` when a password is given.
 * @param args the remote command and its arguments (empty for none)
 * @param options where to connect and how to authenticate
 * @returns the process and a promise of its outcome
 */
export function spawnSsh(args: readonly string[], options: SshRunOptions): SshProcess {
  const argv = sshArgv(args, options);
  const usesPassword = options.password !== undefined;
  // sshpass -e reads the password from the environment, keeping it out of the process list.
  const child = usesPassword
    ? spawn(OPENSSH_PATHS.sshpass, ['-e', OPENSSH_PATHS.ssh, ...argv], {
        env: { ...process.env, SSHPASS: options.password },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      })
    : spawn(OPENSSH_PATHS.ssh, argv, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const kill = (signal: NodeJS.Signals = 'SIGKILL'): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const result = new Promise<SshResult>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs ?? 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, stdout, stderr, negotiated: parseNegotiated(stderr) });
    });
  });
  return { child, result, kill };
}

/**
 * Runs `ssh` to completion (see {@link spawnSsh}).
 * @param args the remote command and its arguments
 * @param options where to connect and how to authenticate
 * @returns exit status, output and the negotiated algorithms
 */
export function runSsh(args: readonly string[], options: SshRunOptions): Promise<SshResult> {
  return spawnSsh(args, options).result;
}
