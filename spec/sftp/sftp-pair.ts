/**
 * Our SFTP client and server over an in-memory session pair, serving a fresh temporary directory;
 * also a raw channel with the `sftp` subsystem started, for specs that write packets by hand.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientSession } from '../../lib/client-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import type { ServerSession } from '../../lib/server-session.js';
import { serveSftp, SftpClient, type SftpServerOptions } from '../../lib/sftp/index.js';
import { sessionPair } from '../helpers/pairs.js';

/** A served directory, its sessions and our client on it. */
export interface SftpPair {
  /** Real path of the served root. */
  root: string;
  /** A sibling of the root the server must never reach. */
  outside: string;
  client: ClientSession;
  server: ServerSession;
  sftp: SftpClient;
  /** Errors the server reported through onError. */
  errors: Error[];
  /** Closes the sessions and removes both directories. */
  close(): Promise<void>;
}

/**
 * Starts a pair serving a new temporary root.
 * @param options server options besides `root`
 * @returns the pair, with `sftp` open
 */
export async function sftpPair(options: Omit<SftpServerOptions, 'root'> = {}): Promise<SftpPair> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'ssh-streams-sftp-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  for (const dir of [root, outside]) rmSync(dir, { force: true, recursive: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(root);
  mkdirSync(outside);
  const { client, server } = await sessionPair();
  const errors: Error[] = [];
  void (async () => {
    for await (const channel of server.channels) serveSftp(channel, { clientVersion: server.remoteVersion, onError: (e) => errors.push(e), ...options, root });
  })();
  const sftp = await SftpClient.open(client);
  return {
    root,
    outside,
    client,
    server,
    sftp,
    errors,
    async close() {
      await sftp.close().catch(() => {});
      await client.close();
      await server.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a session channel on `client` and starts the `sftp` subsystem, without INIT.
 * @returns the channel, its writer and reader
 */
export async function rawSftpChannel(client: ClientSession): Promise<{
  channel: Channel;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  reader: ReadableStreamDefaultReader<Uint8Array>;
}> {
  const channel = await client.openChannel();
  if (!(await channel.subsystem('sftp'))) throw new Error('sftp subsystem refused');
  return { channel, writer: channel.writable.getWriter(), reader: channel.readable.getReader() };
}
