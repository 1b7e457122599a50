/**
 * Shared pieces of the interop specs: our client dialled to a real server on 127.0.0.1 with its
 * host key pinned, a command run over `exec` with its output collected, and our TcpServer serving
 * `exec` through node:child_process for OpenSSH's `ssh` and the `ssh2` package to log into.
 */
import { createHash } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { ClientSession } from '../../lib/client-session.js';
import { SessionConfig } from '../../lib/config.js';
import { TcpServer, socketToDuplex } from '../../lib/tcp/index.js';
import { serveExec } from '../../lib/session/exec.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import type { MaybeCertifiedKey } from '../../lib/keys/certified-key.js';
import { exportPublicKey, importKey } from '../../lib/keys/index.js';
import { ensureTestUser, hostPublicKey, HOST_KEY_TYPES, startSshd, type Sshd, type TestUser } from '../helpers/openssh.js';
import type { ServerAuthenticatingEvent, ServerAuthenticatingHandler } from '../../lib/auth/types.js';
import type { ServerSession } from '../../lib/server-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import type { TraceHandler } from '../../lib/trace/trace-event.js';

/** A test sshd that admits the test user with a fresh ed25519 key, and the host keys it presents. */
export interface SshdForUser {
  sshd: Sshd;
  user: TestUser;
  userKey: KeyPair;
  hostKeys: KeyPair[];
}

/**
 * Starts a test sshd for our client to log in to with a public key.
 * @param extraConfig sshd_config lines added to the defaults
 */
export async function startSshdForUser(extraConfig?: string[]): Promise<SshdForUser> {
  const user = ensureTestUser();
  const userKey = await generateKeyPair('ssh-ed25519');
  const sshd = await startSshd({ authorizedKeys: [await exportPublicKey(userKey)], ...(extraConfig ? { extraConfig } : {}) });
  const hostKeys = await Promise.all(HOST_KEY_TYPES.map((type) => importKey(hostPublicKey(sshd, type))));
  return { sshd, user, userKey, hostKeys };
}

/**
 * Connects our client to `127.0.0.1:port`, accepting only one of `hostKeys`.
 * @param port the server's port
 * @param hostKeys the host keys to pin
 * @param config client configuration (default: secure defaults)
 * @param onTrace diagnostics handler, set before the connection starts (with `config.trace` on)
 * @returns a connected, not yet authenticated client
 */
export async function connectClient(
  port: number,
  hostKeys: readonly KeyPair[],
  config = SessionConfig.default(),
  onTrace?: TraceHandler,
): Promise<ClientSession> {
  const socket = netConnect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = new ClientSession(config);
  client.onTrace = onTrace;
  client.onAuthenticating = (e) => hostKeys.some((key) => key.equals(e.publicKey));
  await client.connect(socketToDuplex(socket));
  return client;
}

/** What a command run through `exec` produced. */
export interface ExecOutput {
  stdout: string;
  stderr: string;
  exitStatus: number | undefined;
}

async function text(readable: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of readable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs `command` on a new session channel, sends `input` (then EOF) and collects everything.
 * @param client an authenticated client
 * @param command the command line
 * @param input optional standard input
 * @returns stdout, stderr and the exit status
 */
export async function execText(client: ClientSession, command: string, input = ''): Promise<ExecOutput> {
  const channel = await client.openChannel();
  if (!(await channel.exec(command))) throw new Error(`exec ${command} was refused`);
  const writer = channel.writable.getWriter();
  // A quick command may exit, and the server CLOSE the channel, before our EOF: the writer then
  // rejects, as the channel contract says, and that is no failure of the command.
  const sent = (input === '' ? Promise.resolve() : writer.write(new TextEncoder().encode(input)))
    .then(() => writer.close())
    .catch(() => {});
  const [stdout, stderr] = await Promise.all([text(channel.readable), text(channel.stderr), sent]);
  return { stdout, stderr, exitStatus: (await channel.closed).exitStatus };
}

/**
 * Reads a stream to its end, hashing as it goes.
 * @param readable the stream
 * @returns the SHA-256 in hex and the byte count
 */
export async function hashStream(readable: ReadableStream<Uint8Array>): Promise<{ hash: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { hash: hash.digest('hex'), bytes };
}

/**
 * A deterministic pseudo-random byte stream of `size` bytes, and its SHA-256 computed up front.
 * @param size total bytes
 * @param seed varies the content
 * @returns a factory of fresh streams and the expected hash
 */
export function patternSource(size: number, seed: number): { stream: () => ReadableStream<Uint8Array>; hash: string } {
  const block = createHash('sha512');
  const chunkSize = 256 * 1024;
  // One random-looking block reused with a per-chunk counter: cheap to make, never periodic within a chunk offset.
  const base = Buffer.alloc(chunkSize);
  for (let i = 0; i < chunkSize; i += 64) block.copy().update(`${seed}:${i}`).digest().copy(base, i);
  const chunkAt = (index: number, length: number): Uint8Array => {
    const chunk = Buffer.from(base.subarray(0, length));
    chunk.writeUInt32BE(index >>> 0, 0);
    return chunk;
  };
  const hash = createHash('sha256');
  for (let sent = 0, i = 0; sent < size; sent += chunkSize, i++) hash.update(chunkAt(i, Math.min(chunkSize, size - sent)));
  const expected = hash.digest('hex');
  const stream = (): ReadableStream<Uint8Array> => {
    let sent = 0;
    let index = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const length = Math.min(chunkSize, size - sent);
        if (length === 0) return controller.close();
        controller.enqueue(chunkAt(index++, length));
        sent += length;
      },
    });
  };
  return { stream, hash: expected };
}

/** Our server on 127.0.0.1, serving `exec`. */
export interface ExecServer {
  port: number;
  server: TcpServer;
  /** Every authentication event the handler saw, in order. */
  events: ServerAuthenticatingEvent[];
  close(): Promise<void>;
}

/**
 * Starts a TcpServer on a free 127.0.0.1 port whose sessions serve `exec` with `serveExec`.
 * @param options host keys, the authentication handler, a configuration and per-session/channel hooks
 * @returns the listening server
 */
export async function startExecServer(options: {
  hostKeys: MaybeCertifiedKey[];
  onAuthenticating: ServerAuthenticatingHandler;
  config?: SessionConfig;
  onSession?: (session: ServerSession) => void;
  /** Serves each incoming channel (default `serveExec`). */
  onChannel?: (channel: Channel) => void;
}): Promise<ExecServer> {
  const server = new TcpServer(options.config ?? SessionConfig.default());
  server.credentials = { hostKeys: options.hostKeys };
  const events: ServerAuthenticatingEvent[] = [];
  server.onSessionAuthenticating = (e) => {
    events.push(e);
    return options.onAuthenticating(e);
  };
  server.onSessionError = () => {
    // A refused or killed client ends its own session only.
  };
  server.onSessionOpened = (session) => {
    options.onSession?.(session);
    void (async () => {
      for await (const channel of session.channels) (options.onChannel ?? serveExec)(channel);
    })();
  };
  await server.listen(0, '127.0.0.1');
  return { port: server.port!, server, events, close: () => server.close() };
}
