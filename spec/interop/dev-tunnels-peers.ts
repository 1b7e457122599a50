/**
 * Shared pieces of the `@microsoft/dev-tunnels-ssh` interop specs: algorithm cases and the two
 * libraries' configurations for them, host and user keys of both, their event-based channels
 * driven through `send`, `onDataReceived` and `adjustWindow` (as their docs ask), hashed transfers
 * both ways, their server over node:net sockets and our client pinned to its host keys.
 */
import { expect } from 'vitest';
import { createHash } from 'node:crypto';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import * as dt from '@microsoft/dev-tunnels-ssh';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { socketToDuplex } from '../../lib/tcp/index.js';
import { ClientSession } from '../../lib/client-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import { hashStream, patternSource } from './interop-sessions.js';

/** One mebibyte. */
export const MiB = 1024 * 1024;
/** The user both servers accept. */
export const username = 'carol';
/** The password both servers accept. */
export const password = 'dev-tunnels-interop-Password';
/** The channel request answered with SUCCESS (anything else gets FAILURE). */
export const customRequest = 'my-custom-request';
/** The global request answered with SUCCESS (anything else gets FAILURE). */
export const globalRequest = 'my-global-request@example.com';

import { Queue } from '../helpers/queue.js';

export { Queue };

/** One algorithm choice: the other lists stay at the defaults. */
export interface AlgorithmCase {
  name: string;
  kex?: string;
  cipher?: string;
  hmac?: string;
  hostKey?: string;
}

/** One case per key exchange, cipher (with each MAC for CTR) and host key algorithm they implement. */
export const algorithmCases: AlgorithmCase[] = [
  { name: 'ecdh-sha2-nistp384', kex: 'ecdh-sha2-nistp384' },
  { name: 'ecdh-sha2-nistp256', kex: 'ecdh-sha2-nistp256' },
  { name: 'ecdh-sha2-nistp521', kex: 'ecdh-sha2-nistp521' },
  { name: 'diffie-hellman-group14-sha256', kex: 'diffie-hellman-group14-sha256' },
  { name: 'diffie-hellman-group16-sha512', kex: 'diffie-hellman-group16-sha512' },
  { name: 'aes256-gcm@openssh.com', cipher: 'aes256-gcm@openssh.com' },
  ...['hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512', 'hmac-sha2-256'].map((hmac) => ({
    name: `aes256-ctr + ${hmac}`,
    cipher: 'aes256-ctr',
    hmac,
  })),
  ...['rsa-sha2-512', 'rsa-sha2-256', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'].map((hostKey) => ({
    name: `${hostKey} host key`,
    hostKey,
  })),
];

/** Their configuration: secure defaults plus the P-521 kex and host key they implement but do not list. */
export function theirConfig(c: AlgorithmCase = { name: 'default' }): dt.SshSessionConfiguration {
  const config = new dt.SshSessionConfiguration(true);
  config.keyExchangeAlgorithms.push(dt.SshAlgorithms.keyExchange.ecdhNistp521Sha512!);
  config.publicKeyAlgorithms.push(dt.SshAlgorithms.publicKey.ecdsaSha2Nistp521!);
  const only = <T extends { name: string }>(list: (T | null)[], name: string | undefined): void => {
    if (name === undefined) return;
    const kept = list.filter((a) => a?.name === name);
    if (kept.length !== 1) throw new Error(`dev-tunnels-ssh has no ${name}`);
    list.splice(0, list.length, ...kept);
  };
  only(config.keyExchangeAlgorithms, c.kex);
  only(config.encryptionAlgorithms, c.cipher);
  only(config.hmacAlgorithms, c.hmac);
  only(config.publicKeyAlgorithms, c.hostKey);
  return config;
}

/** Their configuration without open-channel-request@microsoft.com: initial requests go as plain channel requests. */
export function theirConfigWithoutInitialRequests(): dt.SshSessionConfiguration {
  const config = theirConfig();
  const index = config.protocolExtensions.indexOf(dt.SshProtocolExtensionNames.openChannelRequest);
  config.protocolExtensions.splice(index, 1);
  return config;
}

/** Our configuration restricted to one algorithm per case. */
export function ourConfig(c: AlgorithmCase = { name: 'default' }): SessionConfig {
  const config = SessionConfig.default();
  if (c.kex) config.keyExchangeAlgorithms = [c.kex];
  if (c.cipher) config.encryptionAlgorithms = [c.cipher];
  if (c.hmac) config.hmacAlgorithms = [c.hmac];
  if (c.hostKey) config.publicKeyAlgorithms = [c.hostKey];
  return config;
}

/** What the negotiated algorithms must be for a case (the other side holds the defaults). */
export function expectNegotiated(algorithms: ClientSession['algorithms'], c: AlgorithmCase): void {
  if (c.kex) expect(algorithms!.kex).toBe(c.kex);
  if (c.cipher) expect([algorithms!.encryptionClientToServer, algorithms!.encryptionServerToClient]).toEqual([c.cipher, c.cipher]);
  if (c.hmac) expect([algorithms!.macClientToServer, algorithms!.macServerToClient]).toEqual([c.hmac, c.hmac]);
  if (c.hostKey) expect(algorithms!.serverHostKey).toBe(c.hostKey);
}

/** The public key blob of one of their keys. */
export async function theirBlob(key: dt.KeyPair): Promise<Buffer> {
  return (await key.getPublicKeyBytes())!;
}

/** Their host keys: RSA and the three ECDSA curves. */
export async function theirKeys(): Promise<dt.KeyPair[]> {
  const pk = dt.SshAlgorithms.publicKey;
  return Promise.all([
    pk.rsaWithSha512!.generateKeyPair(2048),
    pk.ecdsaSha2Nistp256!.generateKeyPair(),
    pk.ecdsaSha2Nistp384!.generateKeyPair(),
    pk.ecdsaSha2Nistp521!.generateKeyPair(),
  ]);
}

/** Our host keys: RSA and the three ECDSA curves. */
export async function ourKeys(): Promise<KeyPair[]> {
  return Promise.all([
    generateKeyPair('rsa-sha2-512', { keySize: 2048 }),
    generateKeyPair('ecdsa-sha2-nistp256'),
    generateKeyPair('ecdsa-sha2-nistp384'),
    generateKeyPair('ecdsa-sha2-nistp521'),
  ]);
}

/** Answers `my-custom-request` on one of their channels with SUCCESS, anything else with FAILURE. */
export function answerCustomRequests(channel: dt.SshChannel, seen: string[] = []): string[] {
  channel.onRequest((e) => {
    seen.push(e.requestType);
    e.isAuthorized = e.requestType === customRequest;
  });
  return seen;
}

/** Collects what arrives on one of their channels until EOF, granting window as it goes. */
export function theirReceive(channel: dt.SshChannel): Promise<{ hash: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve) => {
    channel.onDataReceived((data) => {
      hash.update(data);
      bytes += data.length;
      channel.adjustWindow(data.length);
    });
    channel.onEof(() => resolve({ hash: hash.digest('hex'), bytes }));
  });
}

/** Sends a pattern through one of their channels, then EOF (their `send` of zero bytes). */
export async function theirSend(channel: dt.SshChannel, source: ReturnType<typeof patternSource>): Promise<void> {
  for await (const chunk of source.stream()) await channel.send(Buffer.from(chunk));
  await channel.send(Buffer.alloc(0));
}

/** Sends a pattern through one of our channels, then EOF. */
export async function ourSend(channel: Channel, source: ReturnType<typeof patternSource>): Promise<void> {
  await source.stream().pipeTo(channel.writable);
}

/** Moves `bytes` each way at once between their channel and ours, comparing SHA-256 on arrival. */
export async function transferBothWays(theirs: dt.SshChannel, ours: Channel, bytes: number, seed: number): Promise<void> {
  const toUs = patternSource(bytes, seed);
  const toThem = patternSource(bytes, seed + 1);
  const [atUs, atThem] = await Promise.all([hashStream(ours.readable), theirReceive(theirs), theirSend(theirs, toUs), ourSend(ours, toThem)]);
  expect(atUs).toEqual({ hash: toUs.hash, bytes });
  expect(atThem).toEqual({ hash: toThem.hash, bytes });
}

/** Their events (vscode-jsonrpc `Event`): subscribe, get a disposable back. */
export type TheirEvent<T> = (listener: (e: T) => unknown) => { dispose(): void };

/** The next value of one of their events. */
export function nextEvent<T>(event: TheirEvent<T>): Promise<T> {
  return new Promise((resolve) => {
    const subscription = event((value) => {
      subscription.dispose();
      resolve(value);
    });
  });
}

/** Their server: SshServerSession per accepted socket (what their SshServer does, minus a fixed port). */
export interface TheirServer {
  port: number;
  /** Each session, in the order the sockets were accepted. */
  sessions: Queue<TheirServerSession>;
  /** Global requests their server saw. */
  requests: string[];
  close(): Promise<void>;
}

/** One session of their server. */
export interface TheirServerSession {
  session: dt.SshServerSession;
  /** Channels our client opened on it, each with the channel requests it received (all answered). */
  channels: Queue<{ channel: dt.SshChannel; requests: string[] }>;
  /** How it closed (subscribed when the socket was accepted). */
  closed: Promise<dt.SshSessionClosedEventArgs>;
}

/**
 * Starts their server on a free 127.0.0.1 port with `hostKeys`, accepting `username` by password
 * or by one of `userBlobs`, answering `globalRequest` and, on every channel, `customRequest`.
 * @param config their configuration (default: `theirConfig()`)
 */
export async function startTheirServer(hostKeys: dt.KeyPair[], userBlobs: Uint8Array[], config = theirConfig()): Promise<TheirServer> {
  const sessions = new Queue<TheirServerSession>();
  const requests: string[] = [];
  const open = new Set<dt.SshServerSession>();
  const tcp: Server = createServer((socket: Socket) => {
    const session = new dt.SshServerSession(config);
    session.credentials = { publicKeys: hostKeys };
    const channels = new Queue<{ channel: dt.SshChannel; requests: string[] }>();
    open.add(session);
    sessions.push({ session, channels, closed: nextEvent(session.onClosed) });
    session.onClosed(() => open.delete(session));
    session.onAuthenticating((e) => {
      if (e.username !== username) return;
      if (e.authenticationType === dt.SshAuthenticationType.clientPassword && e.password === password) {
        e.authenticationPromise = Promise.resolve({});
      } else if (e.authenticationType === dt.SshAuthenticationType.clientPublicKey || e.authenticationType === dt.SshAuthenticationType.clientPublicKeyQuery) {
        e.authenticationPromise = theirBlob(e.publicKey!).then((blob) => (userBlobs.some((b) => blob.equals(b)) ? {} : null));
      }
    });
    session.onRequest((e) => {
      requests.push(e.requestType);
      e.isAuthorized = e.requestType === globalRequest;
    });
    session.onChannelOpening((e) => {
      if (!e.isRemoteRequest) return;
      channels.push({ channel: e.channel, requests: answerCustomRequests(e.channel) });
    });
    session.connect(new dt.NodeStream(socket)).catch(() => session.dispose());
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  return {
    port: (tcp.address() as { port: number }).port,
    sessions,
    requests,
    async close() {
      await Promise.all([...open].map((s) => s.close(dt.SshDisconnectReason.byApplication)));
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}

/** Our client connected to `port`, accepting only host keys whose blob is in `blobs`. */
export async function connectClientTo(port: number, blobs: readonly Uint8Array[], config: SessionConfig): Promise<ClientSession> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  const client = new ClientSession(config);
  client.onAuthenticating = (e) => blobs.some((blob) => Buffer.from(blob).equals(e.publicKey.publicKeyBlob));
  await client.connect(socketToDuplex(socket));
  return client;
}
