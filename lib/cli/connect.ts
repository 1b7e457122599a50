/**
 * `ssh-streams connect`: an interactive SSH client built on the public API only. Verifies the
 * host key against known_hosts (StrictHostKeyChecking ask / accept-new / yes / no), logs in with
 * keys (-i, else ~/.ssh/id_*), then keyboard-interactive and password asked on the terminal
 * without echo, starts -L/-R forwards, and runs the login shell or a command in the local
 * terminal (attachTerminal). Its exit status is the remote command's.
 */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SessionConfig, SshError, traceLevels, type ClientSession, type KeyPair, type TraceEvent } from '../index.node.js';
import { importKeyFile } from '../keys/index.node.js';
import { TcpClient } from '../tcp/index.js';
import { addPortForwardingService, getPortForwardingService } from '../forwarding/index.node.js';
import { attachTerminal } from '../terminal/index.js';
import { AgentClient } from '../agent/index.node.js';
import { parseDynamicForward, parsePortForward, type DynamicForwardSpec, type PortForwardSpec } from './forward-spec.js';
import { checkHostKey, HOST_KEY_POLICIES, type HostKeyPolicy } from './host-key-check.js';
import { askTerminal } from './prompt.js';

/** `ssh-streams connect --help`. */
export const CONNECT_USAGE = `Usage: ssh-streams connect [options] [user@]host [command...]

Logs in to an SSH server and runs the login shell in this terminal, or runs command (put -- before
a command that has options of its own: ssh-streams connect host -- ls -l). The exit status is the
remote command's (255 when the connection fails or the command was killed by a signal).

Options:
  -p, --port PORT        server port (default 22)
  -l, --login NAME       user name (default: the one in user@host, else the current user)
  -i, --identity FILE    private key to log in with (repeatable; default ~/.ssh/id_ed25519,
                         id_ecdsa and id_rsa, those that exist); a passphrase is asked when needed
  -L SPEC                [bind_address:]port:host:hostport  forward a local port to host:hostport
                         as seen from the server (repeatable)
  -R SPEC                [bind_address:]port:host:hostport  forward a server port to host:hostport
                         as seen from here (repeatable)
  -D SPEC                [bind_address:]port  dynamic forwarding: a local SOCKS4/4a/5 listener whose
                         connections are opened from the server (repeatable)
  -N                     no command and no shell: only forward, until Ctrl-C
  -t                     ask for a remote terminal even with a command
  -T                     never ask for a remote terminal
  -o OPTION=VALUE        StrictHostKeyChecking=ask|accept-new|yes|no (default ask) and
                         UserKnownHostsFile=FILE (default ~/.ssh/known_hosts)
  -v, --verbose          diagnostics on stderr, like ssh: -v versions, algorithms, authentication
                         steps, re-keys and disconnects; -vv adds channels and requests; -vvv every
                         message (never a password, key or data)
  -h, --help             this text

Logins try the keys first, then the identities of the ssh-agent at SSH_AUTH_SOCK (when set), then
keyboard-interactive and the password, asked on the terminal without echo. The server's host key must be in known_hosts; an unknown one is asked about (ask),
added (accept-new, no) or refused (yes); a changed one is always refused.`;

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  login: { type: 'string', short: 'l' },
  identity: { type: 'string', short: 'i', multiple: true },
  L: { type: 'string', short: 'L', multiple: true },
  R: { type: 'string', short: 'R', multiple: true },
  D: { type: 'string', short: 'D', multiple: true },
  N: { type: 'boolean', short: 'N' },
  t: { type: 'boolean', short: 't' },
  T: { type: 'boolean', short: 'T' },
  o: { type: 'string', short: 'o', multiple: true },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Splits the arguments where the remote command starts (the first argument after the
 * destination), so that the command's own options are not taken for ours.
 */
function splitCommand(args: string[]): [string[], string[]] {
  const { tokens } = parseArgs({ args, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positionals = tokens.filter((token) => token.kind === 'positional' || token.kind === 'option-terminator');
  const commandStart = positionals.find((token, i) => i > 0 || token.kind === 'option-terminator');
  if (commandStart === undefined) return [args, []];
  const at = commandStart.kind === 'option-terminator' ? commandStart.index + 1 : commandStart.index;
  const ours = args.slice(0, commandStart.index);
  return [ours, args.slice(at)];
}

/** The `-o` settings `connect` understands. */
function sshOptions(settings: readonly string[]): { policy: HostKeyPolicy; knownHosts: string } {
  let policy: HostKeyPolicy = 'ask';
  let knownHosts = join(homedir(), '.ssh', 'known_hosts');
  for (const setting of settings) {
    const match = /^([A-Za-z]+)[= ](.*)$/.exec(setting);
    const key = match?.[1]?.toLowerCase();
    const value = match?.[2]?.trim() ?? '';
    if (key === 'stricthostkeychecking') {
      const chosen = value.toLowerCase() === 'off' ? 'no' : value.toLowerCase();
      if (!(HOST_KEY_POLICIES as readonly string[]).includes(chosen)) {
        throw new SshError(`-o StrictHostKeyChecking=${value}: expected one of ${HOST_KEY_POLICIES.join(', ')}`);
      }
      policy = chosen as HostKeyPolicy;
    } else if (key === 'userknownhostsfile') {
      knownHosts = value.replace(/^~(?=$|\/)/, homedir());
    } else {
      throw new SshError(`-o ${setting}: only StrictHostKeyChecking and UserKnownHostsFile are supported`);
    }
  }
  return { policy, knownHosts };
}

/** `user@host` or `host`. */
function destination(text: string, login: string | undefined): { user: string; host: string } {
  const at = text.lastIndexOf('@');
  const host = at < 0 ? text : text.slice(at + 1);
  if (host === '') throw new SshError(`No host in ${JSON.stringify(text)}`);
  return { user: login ?? (at < 0 ? userInfo().username : text.slice(0, at)), host };
}

/** A key file, loaded when the server asks; an encrypted key's passphrase is asked for then. */
function keySource(path: string): () => Promise<KeyPair> {
  return async () => {
    try {
      return await importKeyFile(path);
    } catch (error) {
      if (!/passphrase|encrypted/i.test((error as Error).message)) throw error;
      return importKeyFile(path, await askTerminal(`Enter passphrase for key '${path}': `));
    }
  };
}

/** The ssh-agent at SSH_AUTH_SOCK, or none when it is unset or does not answer (as ssh(1) goes on without it). */
async function agentFromEnvironment(): Promise<AgentClient | undefined> {
  const path = process.env['SSH_AUTH_SOCK'];
  if (path === undefined || path === '') return undefined;
  try {
    return await AgentClient.connect(path);
  } catch (error) {
    process.stderr.write(`Cannot reach the agent at ${path}: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** RFC 4252: keys, the agent's identities, then keyboard-interactive, then up to three passwords, as ssh(1) tries them. */
async function logIn(session: ClientSession, user: string, host: string, keyFiles: string[]): Promise<boolean> {
  const agent = await agentFromEnvironment();
  try {
    if ((keyFiles.length > 0 || agent !== undefined) && (await session.authenticate({ username: user, privateKeys: keyFiles.map(keySource), agent }))) {
      return true;
    }
  } finally {
    await agent?.close();
  }
  const interactive = process.stdin.isTTY === true || existsSync('/dev/tty');
  if (!interactive) return false;
  const keyboardInteractive = async (prompts: readonly { prompt: string; echo: boolean }[], name: string, instruction: string) => {
    if (name !== '' || instruction !== '') process.stderr.write(`${[name, instruction].filter((t) => t !== '').join('\n')}\n`);
    const answers: string[] = [];
    for (const prompt of prompts) answers.push(await askTerminal(prompt.prompt, { echo: prompt.echo }));
    return answers;
  };
  if (await session.authenticate({ username: user, keyboardInteractive })) return true;
  for (let attempt = 0; attempt < 3; attempt++) {
    const password = await askTerminal(`${user}@${host}'s password: `);
    if (await session.authenticate({ username: user, password })) return true;
    process.stderr.write('Permission denied, please try again.\n');
  }
  return false;
}

/** Starts the -L, -R and -D forwards. */
async function startForwards(
  session: ClientSession,
  forwards: { local: PortForwardSpec[]; remote: PortForwardSpec[]; dynamic: DynamicForwardSpec[] },
): Promise<void> {
  const { local, remote, dynamic } = forwards;
  if (local.length === 0 && remote.length === 0 && dynamic.length === 0) return;
  const forwarding = getPortForwardingService(session);
  for (const spec of dynamic) {
    const socks = await forwarding.forwardDynamic({ address: spec.bindAddress, port: spec.port });
    if (spec.port === 0) process.stderr.write(`SOCKS listener on port ${socks.localPort}\n`);
  }
  for (const spec of local) {
    await forwarding.forwardToRemotePort({ address: spec.bindAddress, port: spec.port }, spec.host, spec.hostPort);
  }
  for (const spec of remote) {
    const forward = await forwarding.forwardFromRemotePort({ address: spec.bindAddress, port: spec.port }, spec.host, spec.hostPort);
    if (spec.port === 0) process.stderr.write(`Allocated port ${forward.remotePort} for remote forward to ${spec.host}:${spec.hostPort}\n`);
  }
}

/** Resolves on SIGINT or SIGTERM (for -N), or when the session ends. */
function untilInterrupted(session: ClientSession): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    session.closed.then(stop, stop);
  });
}

/**
 * Runs `ssh-streams connect`.
 * @param args the arguments after `connect`
 * @returns the exit status: the remote command's, 255 for a failed connection or a signal
 * @throws SshError for bad arguments, a refused host key or a failed login
 */
export async function connect(args: string[]): Promise<number> {
  const [ours, command] = splitCommand(args);
  const { values, positionals } = parseArgs({ args: ours, options: OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${CONNECT_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new SshError('Expected one destination, [user@]host (see ssh-streams connect --help)');
  const { user, host } = destination(positionals[0]!, values.login);
  const port = values.port === undefined ? 22 : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SshError(`-p ${values.port} is not a port (1-65535)`);
  const local = (values.L ?? []).map(parsePortForward);
  const remote = (values.R ?? []).map(parsePortForward);
  const dynamic = (values.D ?? []).map(parseDynamicForward);
  const { policy, knownHosts } = sshOptions(values.o ?? []);
  const keyFiles =
    values.identity ?? ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(homedir(), '.ssh', name)).filter((path) => existsSync(path));

  const config = SessionConfig.default();
  // ssh -v, -vv, -vvv: the session's trace levels, printed to stderr as ssh prints its debug lines.
  const verbosity = Math.min(values.verbose?.length ?? 0, traceLevels.length);
  if (verbosity > 0) config.trace = traceLevels[verbosity - 1]!;
  const onTrace = verbosity > 0 ? (e: TraceEvent): void => void process.stderr.write(`debug${traceLevels.indexOf(e.level) + 1}: ${e.message}\n`) : undefined;
  if (local.length > 0 || remote.length > 0 || dynamic.length > 0) addPortForwardingService(config);
  const tcp = new TcpClient(config);
  tcp.onSessionAuthenticating = (e) =>
    checkHostKey(e.publicKey, {
      host,
      port,
      policy,
      knownHostsFiles: [knownHosts],
      ask: (question) => askTerminal(question, { echo: true }),
      warn: (message) => process.stderr.write(`${message}\n`),
    });
  const session = await tcp.openSession(host, port, { onTrace });
  try {
    if (!(await logIn(session, user, host, keyFiles))) throw new SshError(`Permission denied for ${user}@${host}`);
    await startForwards(session, { local, remote, dynamic });
    if (values.N) {
      await untilInterrupted(session);
      return 0;
    }
    const channel = await session.openChannel();
    const remoteCommand = command.length > 0 ? command.join(' ') : undefined;
    const pty = values.T ? false : values.t ? true : remoteCommand === undefined && process.stdin.isTTY === true;
    const ended = await attachTerminal(channel, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, command: remoteCommand, pty });
    if (ended.exitStatus !== undefined) return ended.exitStatus;
    if (ended.exitSignal !== undefined) process.stderr.write(`Remote command killed by signal ${ended.exitSignal}\n`);
    return 255;
  } finally {
    await tcp.close();
  }
}
