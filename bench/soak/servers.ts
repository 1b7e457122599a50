/**
 * The servers the soak runs against, each on 127.0.0.1 with an ed25519 host key and password
 * `soak`/`soak`, accepting `session` channels whose data it reads and counts (and hashes, for the
 * reconnect soak, echoing nothing): ssh-streams' TcpServer, and ssh2's Server for comparison. The
 * counters are what the soak checks: sessions and channels open now, bytes received, errors.
 */
import { once } from 'node:events';
import ssh2 from 'ssh2';
import { ssh2Ed25519KeyPair } from '../ssh2-keys.js';
import { TcpServer } from '../../lib/tcp/index.js';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { SshError } from '../../lib/errors.js';
import type { Channel } from '../../lib/mux/channel.js';

/** The user both servers accept. */
export const soakCredentials = { username: 'soak', password: 'soak' };

/** Which server. */
export type SoakServerKind = 'ssh-streams' | 'ssh2';

/** Counters of a soak server. */
export interface SoakServerStats {
  sessionsOpen: number;
  channelsOpen: number;
  channelsOpened: number;
  bytesReceived: number;
  /** Sessions or channels that ended with an error (a clean close or a peer's disconnect is none). */
  errors: number;
  errorMessages: string[];
}

/** A running soak server. */
export interface SoakServer {
  readonly port: number;
  /** The host key's public blob, to pin on the client. */
  readonly hostKeyBlob: Uint8Array;
  stats(): SoakServerStats;
  close(): Promise<void>;
}

function newStats(): SoakServerStats {
  return { sessionsOpen: 0, channelsOpen: 0, channelsOpened: 0, bytesReceived: 0, errors: 0, errorMessages: [] };
}

function recordError(stats: SoakServerStats, error: unknown): void {
  stats.errors++;
  if (stats.errorMessages.length < 20) stats.errorMessages.push(error instanceof Error ? error.message : String(error));
}

/** Reads a stream to its end, counting bytes into `stats`. */
async function drain(readable: ReadableStream<Uint8Array>, stats: SoakServerStats): Promise<void> {
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    stats.bytesReceived += value.length;
  }
}

/** ssh-streams' TcpServer. */
export async function startOurSoakServer(
  options: { hostKey?: KeyPair; config?: SessionConfig; onChannel?: (channel: Channel) => void } = {},
): Promise<SoakServer> {
  const hostKey = options.hostKey ?? (await generateKeyPair('ssh-ed25519'));
  const stats = newStats();
  const server = new TcpServer(options.config ?? SessionConfig.default());
  // The soak measures capacity, not admission: OpenSSH's default MaxStartups (10:30:100) would drop
  // most of its 25 concurrent handshakes from one address whenever they take a while.
  server.maxStartups = { start: Infinity, rate: 0, full: Infinity };
  server.credentials = { hostKeys: [hostKey] };
  server.onSessionAuthenticating = (e) => e.username === soakCredentials.username && e.password === soakCredentials.password;
  server.onSessionOpened = (session) => {
    stats.sessionsOpen++;
    session.closed
      .catch((error: unknown) => {
        // A client that closes its socket without DISCONNECT is a lost connection, not a server error.
        if (!(error instanceof SshError) || !/Connection lost|Disconnected/.test(error.message)) recordError(stats, error);
      })
      .finally(() => stats.sessionsOpen--);
    void (async () => {
      for await (const channel of session.channels) {
        stats.channelsOpen++;
        stats.channelsOpened++;
        channel.closed.catch((error: unknown) => recordError(stats, error)).finally(() => stats.channelsOpen--);
        channel.onRequest = (e) => e.requestType === 'exec';
        if (options.onChannel !== undefined) {
          options.onChannel(channel);
          continue;
        }
        drain(channel.readable, stats)
          .then(() => channel.close())
          .catch(() => {});
      }
    })();
  };
  await server.listen(0, '127.0.0.1');
  return { port: server.port!, hostKeyBlob: hostKey.publicKeyBlob, stats: () => stats, close: () => server.close() };
}

/** ssh2's Server (the package as installed, with its native addon when it built). */
export async function startSsh2SoakServer(): Promise<SoakServer> {
  const keys = ssh2Ed25519KeyPair();
  const hostKeyBlob = new Uint8Array((ssh2.utils.parseKey(keys.public) as ssh2.ParsedKey).getPublicSSH());
  const stats = newStats();
  const connections = new Set<ssh2.Connection>();
  const server = new ssh2.Server({ hostKeys: [keys.private] }, (connection) => {
    connections.add(connection);
    let counted = false;
    let channelsHere = 0;
    connection.on('error', (error: Error) => {
      if (!/ECONNRESET|EPIPE/.test(error.message)) recordError(stats, error);
    });
    connection.on('close', () => {
      connections.delete(connection);
      if (counted) stats.sessionsOpen--;
      // ssh2 does not emit a channel's close when the whole connection goes.
      stats.channelsOpen -= channelsHere;
      channelsHere = 0;
    });
    connection.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === soakCredentials.username && ctx.password === soakCredentials.password) ctx.accept();
      else ctx.reject(['password']);
    });
    connection.on('ready', () => {
      counted = true;
      stats.sessionsOpen++;
      connection.on('session', (accept) => {
        const session = accept();
        stats.channelsOpen++;
        stats.channelsOpened++;
        channelsHere++;
        session.on('close', () => {
          if (channelsHere === 0) return;
          channelsHere--;
          stats.channelsOpen--;
        });
        session.on('exec', (acceptExec) => {
          const stream = acceptExec();
          stream.on('data', (data: Buffer) => (stats.bytesReceived += data.length));
          stream.on('end', () => stream.close());
        });
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    hostKeyBlob,
    stats: () => stats,
    async close() {
      for (const connection of connections) connection.end();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Starts a soak server of `kind`. */
export function startSoakServer(kind: SoakServerKind): Promise<SoakServer> {
  return kind === 'ssh2' ? startSsh2SoakServer() : startOurSoakServer();
}
