/**
 * `ssh-streams serve`: an SSH server for the user running it, built on the public API only. The
 * host key is kept in a state folder; logins are the running user's, by the password in
 * SSH_STREAMS_PASSWORD and/or the keys of an authorized_keys file; sessions get exec, a shell (in a
 * pseudo-terminal when node-pty is installed), sftp, and TCP forwarding when --allow-forwarding.
 */
import { timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyPair, serveExec, SessionConfig, SshError, type Channel, type KeyPair, type ServerAuthenticatingEvent } from '../index.node.js';
import { exportPrivateKey, getFingerprint, importKeyFile, KeyFormat, parseAuthorizedKeysLine } from '../keys/index.node.js';
import { TcpServer } from '../tcp/index.js';
import { addPortForwardingService, PortForwardRequestEvent } from '../forwarding/index.node.js';
import { runSftpServer } from '../sftp/index.node.js';

/** The environment variable holding the password `serve` accepts. */
export const PASSWORD_VARIABLE = 'SSH_STREAMS_PASSWORD';

/** `ssh-streams serve --help`. */
export const SERVE_USAGE = `Usage: ssh-streams serve [options]

Runs an SSH server as the current user: exec, a login shell (in a pseudo-terminal when the
optional package node-pty is installed), sftp, and TCP forwarding when allowed.

Options:
  --port PORT              port to listen on (default 2222)
  --host ADDRESS           address to listen on (default 127.0.0.1)
  --root DIR               working folder of commands and shells, and the sftp root (default: the current folder)
  --state DIR              where the host key is kept (default $XDG_STATE_HOME/ssh-streams, else ~/.local/state/ssh-streams)
  --authorized-keys FILE   public keys allowed to log in (default ~/.ssh/authorized_keys)
  --user NAME              the user name clients log in as (default: the current user)
  --allow-forwarding       serve ssh -L and -R (direct-tcpip and tcpip-forward); refused otherwise
  -h, --help               this text

Logins: the password in the environment variable ${PASSWORD_VARIABLE} (when set) and the keys of
the authorized_keys file (lines with options such as command= are not used). At least one of them
must exist.`;

/** Where the host key lives unless --state says otherwise. */
function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'ssh-streams');
}

/** Loads the host key of the state folder, making it on first use. */
async function loadHostKey(stateDir: string): Promise<{ key: KeyPair; path: string; created: boolean }> {
  const path = join(stateDir, 'ssh_host_ed25519_key');
  if (existsSync(path)) return { key: await importKeyFile(path), path, created: false };
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const key = await generateKeyPair('ssh-ed25519');
  writeFileSync(path, await exportPrivateKey(key, KeyFormat.OpenSsh), { mode: 0o600 });
  chmodSync(path, 0o600);
  return { key, path, created: true };
}

/** The keys of an authorized_keys file, read at each login so edits apply at once. */
function authorizedKeys(file: string): KeyPair[] {
  if (!existsSync(file)) return [];
  const keys: KeyPair[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const entry = parseAuthorizedKeysLine(line);
      // Options restrict a key (command=, from=, no-pty...); this server enforces none, so such keys are not used.
      if (entry !== undefined && entry.options.length === 0) keys.push(entry.key);
    } catch {
      // sshd skips lines it cannot read.
    }
  }
  return keys;
}

function samePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether node-pty can be loaded (what serveExec will find on the first pty-req). */
async function hasNodePty(): Promise<boolean> {
  const name = 'node-pty';
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `ssh-streams serve`.
 * @param args the arguments after `serve`
 * @returns the exit status (once the server stops on SIGINT/SIGTERM)
 * @throws SshError for bad arguments or when nothing could authenticate a login
 */
export async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '2222' },
      host: { type: 'string', default: '127.0.0.1' },
      root: { type: 'string' },
      state: { type: 'string' },
      'authorized-keys': { type: 'string' },
      user: { type: 'string' },
      'allow-forwarding': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SshError(`--port ${values.port} is not a port (0-65535)`);
  const root = resolve(values.root ?? process.cwd());
  if (!existsSync(root)) throw new SshError(`--root ${root} does not exist`);
  const user = values.user ?? userInfo().username;
  const keysFile = resolve(values['authorized-keys'] ?? join(homedir(), '.ssh', 'authorized_keys'));
  const password = process.env[PASSWORD_VARIABLE] || undefined;
  if (password === undefined && !existsSync(keysFile)) {
    throw new SshError(`Nothing to log in with: set ${PASSWORD_VARIABLE}, or create ${keysFile} (or pass --authorized-keys FILE)`);
  }
  const hostKey = await loadHostKey(resolve(values.state ?? defaultStateDir()));
  const config = SessionConfig.default();
  if (values['allow-forwarding']) addPortForwardingService(config);

  const server = new TcpServer(config);
  server.credentials = { hostKeys: [hostKey.key] };
  server.onSessionAuthenticating = (e: ServerAuthenticatingEvent) => {
    if (e.username !== user) return false;
    if (e.authenticationType === 'password') return password !== undefined && samePassword(e.password ?? '', password);
    if (e.authenticationType === 'publickey') return e.publicKey !== undefined && authorizedKeys(keysFile).some((key) => key.equals(e.publicKey!));
    return false;
  };
  server.onSessionError = () => {
    // One client's failure (bad auth, dropped link) ends its own session only.
  };
  server.onSessionOpened = (session) => {
    // RFC 4254 §7.1: listening for the client only when forwarding was asked for.
    session.onRequest = (e) => values['allow-forwarding'] && e instanceof PortForwardRequestEvent;
    void (async () => {
      for await (const channel of session.channels) serveChannel(channel, { root, clientVersion: session.remoteVersion });
    })();
  };
  await server.listen(port, values.host);

  const terminals = await hasNodePty();
  const lines = [
    `ssh-streams serve: listening on ${values.host}:${server.port}`,
    `Host key: ${getFingerprint(hostKey.key)} (${hostKey.key.keyType}, ${hostKey.created ? 'new, ' : ''}${hostKey.path})`,
    `Logins: user ${user}` +
      (password !== undefined ? ` with the password in ${PASSWORD_VARIABLE}` : '') +
      (password !== undefined && existsSync(keysFile) ? ' or' : '') +
      (existsSync(keysFile) ? ` with a key in ${keysFile}` : ''),
    `Shells: ${terminals ? 'in a pseudo-terminal (node-pty)' : 'without a terminal (install node-pty for one)'}; ` +
      `sftp: root ${root}; forwarding: ${values['allow-forwarding'] ? 'allowed' : 'refused (--allow-forwarding)'}`,
    'Connect with:',
    `  ssh -p ${server.port} ${user}@${values.host}`,
    `  npx ssh-streams connect -p ${server.port} ${user}@${values.host}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}

/** A session channel: exec, shell and terminals by serveExec, the sftp subsystem by runSftpServer. */
function serveChannel(channel: Channel, options: { root: string; clientVersion: string | undefined }): void {
  serveExec(channel, { cwd: options.root });
  const exec = channel.onRequest;
  let sftp = false;
  channel.onRequest = (e) => {
    if (e.requestType !== 'subsystem') return exec?.(e);
    if (e.subsystem !== 'sftp' || sftp) return false;
    sftp = true;
    void runSftpServer(channel, { root: options.root, clientVersion: options.clientVersion }).catch(() => {});
    return true;
  };
}
