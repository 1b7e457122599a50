/**
 * Interop with `@microsoft/dev-tunnels-ssh` over 127.0.0.1 TCP in both directions: every key
 * exchange, cipher, MAC and host key algorithm it implements, password and public key
 * authentication with host key verification on both sides, channels opened either way with hashed
 * transfers, channel and global requests, the open-channel-request@microsoft.com initial request,
 * and channel and session close seen by the other side. Its event-based channels are driven
 * through `send`, `onDataReceived` and `adjustWindow`, as its documentation asks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import * as dt from '@microsoft/dev-tunnels-ssh';
import * as dtTcp from '@microsoft/dev-tunnels-ssh-tcp';
import { SessionConfig } from '../../lib/config.js';
import { DisconnectReason } from '../../lib/errors.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { TcpServer, socketToDuplex } from '../../lib/tcp/index.js';
import type { ServerSession } from '../../lib/server-session.js';
import { ClientSession } from '../../lib/client-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import type { ServerAuthenticatingEvent } from '../../lib/auth/types.js';
import { hashStream, patternSource } from './interop-sessions.js';

const MiB = 1024 * 1024;
const username = 'carol';
const password = 'dev-tunnels-interop-Password';
const customRequest = 'my-custom-request';
const globalRequest = 'my-global-request@example.com';

/** A queue whose `take` waits for the next `push`. */
class Queue<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  take(): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** One algorithm choice: the other lists stay at the defaults. */
interface AlgorithmCase {
  name: string;
  kex?: string;
  cipher?: string;
  hmac?: string;
  hostKey?: string;
}

const algorithmCases: AlgorithmCase[] = [
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
function theirConfig(c: AlgorithmCase = { name: 'default' }): dt.SshSessionConfiguration {
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

/** Our configuration restricted to one algorithm per case. */
function ourConfig(c: AlgorithmCase = { name: 'default' }): SessionConfig {
  const config = SessionConfig.default();
  if (c.kex) config.keyExchangeAlgorithms = [c.kex];
  if (c.cipher) config.encryptionAlgorithms = [c.cipher];
  if (c.hmac) config.hmacAlgorithms = [c.hmac];
  if (c.hostKey) config.publicKeyAlgorithms = [c.hostKey];
  return config;
}

/** What the negotiated algorithms must be for a case (the other side holds the defaults). */
function expectNegotiated(algorithms: ClientSession['algorithms'], c: AlgorithmCase): void {
  if (c.kex) expect(algorithms!.kex).toBe(c.kex);
  if (c.cipher) expect([algorithms!.encryptionClientToServer, algorithms!.encryptionServerToClient]).toEqual([c.cipher, c.cipher]);
  if (c.hmac) expect([algorithms!.macClientToServer, algorithms!.macServerToClient]).toEqual([c.hmac, c.hmac]);
  if (c.hostKey) expect(algorithms!.serverHostKey).toBe(c.hostKey);
}

async function theirBlob(key: dt.KeyPair): Promise<Buffer> {
  return (await key.getPublicKeyBytes())!;
}

/** Their host keys: RSA and the three ECDSA curves. */
async function theirKeys(): Promise<dt.KeyPair[]> {
  const pk = dt.SshAlgorithms.publicKey;
  return Promise.all([
    pk.rsaWithSha512!.generateKeyPair(2048),
    pk.ecdsaSha2Nistp256!.generateKeyPair(),
    pk.ecdsaSha2Nistp384!.generateKeyPair(),
    pk.ecdsaSha2Nistp521!.generateKeyPair(),
  ]);
}

/** Our host keys: RSA and the three ECDSA curves. */
async function ourKeys(): Promise<KeyPair[]> {
  return Promise.all([
    generateKeyPair('rsa-sha2-512', { keySize: 2048 }),
    generateKeyPair('ecdsa-sha2-nistp256'),
    generateKeyPair('ecdsa-sha2-nistp384'),
    generateKeyPair('ecdsa-sha2-nistp521'),
  ]);
}

/** Answers `my-custom-request` on one of their channels with SUCCESS, anything else with FAILURE. */
function answerCustomRequests(channel: dt.SshChannel, seen: string[] = []): string[] {
  channel.onRequest((e) => {
    seen.push(e.requestType);
    e.isAuthorized = e.requestType === customRequest;
  });
  return seen;
}

/** Collects what arrives on one of their channels until EOF, granting window as it goes. */
function theirReceive(channel: dt.SshChannel): Promise<{ hash: string; bytes: number }> {
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
async function theirSend(channel: dt.SshChannel, source: ReturnType<typeof patternSource>): Promise<void> {
  for await (const chunk of source.stream()) await channel.send(Buffer.from(chunk));
  await channel.send(Buffer.alloc(0));
}

/** Sends a pattern through one of our channels, then EOF. */
async function ourSend(channel: Channel, source: ReturnType<typeof patternSource>): Promise<void> {
  await source.stream().pipeTo(channel.writable);
}

/** Moves `bytes` each way at once between their channel and ours, comparing SHA-256 on arrival. */
async function transferBothWays(theirs: dt.SshChannel, ours: Channel, bytes: number, seed: number): Promise<void> {
  const toUs = patternSource(bytes, seed);
  const toThem = patternSource(bytes, seed + 1);
  const [atUs, atThem] = await Promise.all([hashStream(ours.readable), theirReceive(theirs), theirSend(theirs, toUs), ourSend(ours, toThem)]);
  expect(atUs).toEqual({ hash: toUs.hash, bytes });
  expect(atThem).toEqual({ hash: toThem.hash, bytes });
}

/** Their events (vscode-jsonrpc `Event`): subscribe, get a disposable back. */
type TheirEvent<T> = (listener: (e: T) => unknown) => { dispose(): void };

/** The next value of one of their events. */
function nextEvent<T>(event: TheirEvent<T>): Promise<T> {
  return new Promise((resolve) => {
    const subscription = event((value) => {
      subscription.dispose();
      resolve(value);
    });
  });
}

describe('dev-tunnels-ssh interop: their client against our server', () => {
  let server: TcpServer;
  let hostKeys: KeyPair[];
  let userKeys: dt.KeyPair[];
  const sessions = new Queue<ServerSession>();
  const channels = new Queue<Channel>();
  /** The channel requests each of our server's channels received, in order. */
  const channelRequests = new Map<Channel, string[]>();
  const globalRequests: string[] = [];
  const authentications: ServerAuthenticatingEvent[] = [];

  beforeAll(async () => {
    [hostKeys, userKeys] = await Promise.all([ourKeys(), theirKeys()]);
    const userBlobs = await Promise.all(userKeys.map(theirBlob));
    server = new TcpServer(SessionConfig.default());
    server.credentials = { hostKeys };
    server.onSessionAuthenticating = (e) => {
      authentications.push(e);
      if (e.username !== username) return false;
      if (e.authenticationType === 'password') return e.password === password;
      if (e.authenticationType === 'publickey') return userBlobs.some((blob) => blob.equals(e.publicKey!.publicKeyBlob));
      return false;
    };
    server.onSessionError = () => {};
    server.onSessionOpened = (session) => {
      sessions.push(session);
      session.onRequest = (e) => {
        globalRequests.push(e.requestType);
        return e.requestType === globalRequest;
      };
      session.onChannelOpening = (e) => {
        const seen: string[] = [];
        channelRequests.set(e.channel, seen);
        e.channel.onRequest = (r) => {
          seen.push(r.requestType);
          return r.requestType === customRequest;
        };
        channels.push(e.channel);
      };
    };
    await server.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Their SshClient connected to our server, our host key checked against `hostKeys`. */
  async function theirClient(config = theirConfig(), credentials: dt.SshClientCredentials = { username, password }) {
    const client = new dtTcp.SshClient(config);
    const session = await client.openSession('127.0.0.1', server.port!);
    const hostKeyBlobs: Buffer[] = [];
    session.onAuthenticating((e) => {
      if (e.authenticationType !== dt.SshAuthenticationType.serverPublicKey) return;
      e.authenticationPromise = theirBlob(e.publicKey!).then((blob) => {
        hostKeyBlobs.push(blob);
        return hostKeys.some((k) => Buffer.from(k.publicKeyBlob).equals(blob)) ? {} : null;
      });
    });
    const authenticated = await session.authenticate(credentials);
    const ours = await sessions.take();
    return { client, session, ours, authenticated, hostKeyBlobs };
  }

  it.each(algorithmCases.map((c) => [c.name, c] as const))('negotiates %s with their client and echoes a channel round trip', async (_name, c) => {
    const { client, session, ours, authenticated } = await theirClient(theirConfig(c));
    try {
      expect(authenticated).toBe(true);
      expectNegotiated(ours.algorithms, c);
      const theirs = await session.openChannel();
      const channel = await channels.take();
      await transferBothWays(theirs, channel, 64 * 1024, 1);
    } finally {
      client.dispose();
    }
  });

  it('logs in by password with both default configurations, after verifying our host key', async () => {
    const { client, authenticated, hostKeyBlobs, ours } = await theirClient();
    try {
      expect(authenticated).toBe(true);
      expect(hostKeyBlobs).toHaveLength(1);
      expect((await ours.authenticated).method).toBe('password');
      expect(ours.username).toBe(username);
    } finally {
      client.dispose();
    }
  });

  it('refuses their client with a wrong password', async () => {
    const { client, authenticated } = await theirClient(theirConfig(), { username, password: 'wrong' });
    try {
      expect(authenticated).toBe(false);
    } finally {
      client.dispose();
    }
  });

  it.each([
    ['rsa-sha2-512', 0],
    ['ecdsa-sha2-nistp256', 1],
    ['ecdsa-sha2-nistp384', 2],
    ['ecdsa-sha2-nistp521', 3],
  ])('logs their client in with its %s key', async (algorithm, index) => {
    const { client, authenticated, ours } = await theirClient(theirConfig(), { username, publicKeys: [userKeys[index]!] });
    try {
      expect(authenticated).toBe(true);
      const result = await ours.authenticated;
      expect(result.method).toBe('publickey');
      const signed = authentications.filter((e) => e.authenticationType === 'publickey' && !e.isQuery).at(-1)!;
      expect(signed.publicKeyAlgorithm).toBe(algorithm);
      expect(Buffer.from(signed.publicKey!.publicKeyBlob).equals(await theirBlob(userKeys[index]!))).toBe(true);
    } finally {
      client.dispose();
    }
  });

  it('lets their client refuse our host key, closing the session', async () => {
    const client = new dtTcp.SshClient(theirConfig());
    const session = await client.openSession('127.0.0.1', server.port!);
    const ours = await sessions.take();
    session.onAuthenticating((e) => {
      if (e.authenticationType === dt.SshAuthenticationType.serverPublicKey) e.authenticationPromise = Promise.resolve(null);
    });
    try {
      expect(await session.authenticate({ username, password })).toBe(false);
      // A close for any reason but byApplication rejects `closed` with the peer's DisconnectError.
      await expect(ours.closed).rejects.toMatchObject({ reason: DisconnectReason.hostKeyNotVerifiable, description: 'Server authentication failed.' });
    } finally {
      client.dispose();
    }
  });

  it('moves 4 MiB each way at once through a channel they open, with matching SHA-256', async () => {
    const { client, session } = await theirClient();
    try {
      const theirs = await session.openChannel();
      await transferBothWays(theirs, await channels.take(), 4 * MiB, 2);
    } finally {
      client.dispose();
    }
  });

  it('moves 4 MiB each way through a channel our server opens to their client', async () => {
    const { client, session, ours } = await theirClient();
    try {
      const accepted = session.acceptChannel();
      const channel = await ours.openChannel('session');
      await transferBothWays(await accepted, channel, 4 * MiB, 3);
    } finally {
      client.dispose();
    }
  });

  it('answers their custom channel request with SUCCESS and an unknown one with FAILURE', async () => {
    const { client, session } = await theirClient();
    try {
      const theirs = await session.openChannel();
      await channels.take();
      expect(await theirs.request(new dt.ChannelRequestMessage(customRequest, true))).toBe(true);
      expect(await theirs.request(new dt.ChannelRequestMessage('unknown-request', true))).toBe(false);
    } finally {
      client.dispose();
    }
  });

  it('gets SUCCESS from their client for our custom channel request on a channel we opened', async () => {
    const { client, session, ours } = await theirClient();
    try {
      const accepted = session.acceptChannel();
      const channel = await ours.openChannel('session');
      const seen = answerCustomRequests(await accepted);
      expect(await channel.request({ requestType: customRequest, wantReply: true })).toBe(true);
      expect(seen).toEqual([customRequest]);
    } finally {
      client.dispose();
    }
  });

  it('answers global requests both ways', async () => {
    const { client, session, ours } = await theirClient();
    const seen: string[] = [];
    session.onRequest((e) => {
      seen.push(e.requestType);
      e.isAuthorized = e.requestType === globalRequest;
    });
    try {
      expect(await session.request(new dt.SessionRequestMessage(globalRequest, true))).toBe(true);
      expect(await session.request(new dt.SessionRequestMessage('unknown@example.com', true))).toBe(false);
      expect(globalRequests.slice(-2)).toEqual([globalRequest, 'unknown@example.com']);
      expect(await ours.request({ requestType: globalRequest, wantReply: true })).toBe(true);
      expect(seen).toEqual([globalRequest]);
    } finally {
      client.dispose();
    }
  });

  it('sees their channel close as closed by the remote', async () => {
    const { client, session } = await theirClient();
    try {
      const theirs = await session.openChannel();
      const channel = await channels.take();
      await theirs.close(7);
      expect(await channel.closed).toMatchObject({ closedBy: 'remote', exitStatus: 7 });
    } finally {
      client.dispose();
    }
  });

  it('closes a channel from our side and their client sees it closed', async () => {
    const { client, session } = await theirClient();
    try {
      const theirs = await session.openChannel();
      const channel = await channels.take();
      const closedThere = nextEvent(theirs.onClosed);
      // Their library never answers CLOSE with CLOSE: our close() must not wait for it forever.
      await channel.close({ exitStatus: 3 });
      expect((await closedThere).exitStatus).toBe(3);
      expect(theirs.isClosed).toBe(true);
      expect(await channel.closed).toMatchObject({ closedBy: 'local' });
    } finally {
      client.dispose();
    }
  });

  it.each([true, false])('delivers their initial channel request (open-channel-request@microsoft.com, want reply %s) to our channel handler', async (wantReply) => {
    const { client, session } = await theirClient();
    try {
      // Both sides announced the extension, so their client bundles the request with the open.
      expect(session.protocolExtensions?.has('open-channel-request@microsoft.com')).toBe(true);
      const open = new dt.ChannelOpenMessage();
      open.channelType = 'session';
      const theirs = await session.openChannel(open, new dt.ChannelRequestMessage(customRequest, wantReply));
      expect(theirs.channelType).toBe('session');
      const channel = await channels.take();
      await theirs.send(Buffer.from('after'));
      const reader = channel.readable.getReader();
      expect(Buffer.from((await reader.read()).value!).toString()).toBe('after');
      expect(channelRequests.get(channel)).toEqual([customRequest]);
    } finally {
      client.dispose();
    }
  });

  it('fails their openChannel when our handler refuses the initial channel request', async () => {
    const { client, session } = await theirClient();
    try {
      const open = new dt.ChannelOpenMessage();
      open.channelType = 'session';
      await expect(session.openChannel(open, new dt.ChannelRequestMessage('refused-request', true))).rejects.toThrow(/denied/);
    } finally {
      client.dispose();
    }
  });

  it('answers their keepalives, which they count as successes', async () => {
    const config = theirConfig();
    config.keepAliveTimeoutInSeconds = 1;
    const { client, session } = await theirClient(config);
    try {
      const failures: number[] = [];
      session.onKeepAliveFailed((count) => failures.push(count));
      const successes = await new Promise<number>((resolve) => session.onKeepAliveSucceeded((count) => count >= 2 && resolve(count)));
      expect(successes).toBe(2);
      expect(failures).toEqual([]);
      // No application request here: their keepalive bypasses their request queue, so our reply to it
      // (FAILURE, as OpenSSH answers) would complete whichever request of theirs is pending (reference §10).
    } finally {
      client.dispose();
    }
  });

  it('sees their session close with its reason and message', async () => {
    const { client, session, ours } = await theirClient();
    try {
      await session.close(dt.SshDisconnectReason.byApplication, 'their goodbye');
      expect(await ours.closed).toMatchObject({ reason: DisconnectReason.byApplication, description: 'their goodbye', initiatedBy: 'remote' });
    } finally {
      client.dispose();
    }
  });

  it('closes the session from our side and their client sees the reason and message', async () => {
    const { client, session, ours } = await theirClient();
    try {
      const closedThere = nextEvent(session.onClosed);
      await ours.close(DisconnectReason.byApplication, 'our goodbye');
      const e = await closedThere;
      expect(e.reason).toBe(dt.SshDisconnectReason.byApplication);
      expect(e.message).toBe('our goodbye');
      expect(session.isClosed).toBe(true);
    } finally {
      client.dispose();
    }
  });
});

/** Their server: SshServerSession per accepted socket (what their SshServer does, minus a fixed port). */
interface TheirServer {
  port: number;
  sessions: Queue<dt.SshServerSession>;
  /** Channels their server accepted, custom requests already answered. */
  channels: Queue<{ channel: dt.SshChannel; requests: string[] }>;
  /** Global requests their server saw. */
  requests: string[];
  /** How one of its sessions closed (subscribed when the socket was accepted). */
  closed(session: dt.SshServerSession): Promise<dt.SshSessionClosedEventArgs>;
  close(): Promise<void>;
}

async function startTheirServer(hostKeys: dt.KeyPair[], userBlobs: Uint8Array[]): Promise<TheirServer> {
  const sessions = new Queue<dt.SshServerSession>();
  const channels = new Queue<{ channel: dt.SshChannel; requests: string[] }>();
  const requests: string[] = [];
  const open = new Set<dt.SshServerSession>();
  const closed = new Map<dt.SshServerSession, Promise<dt.SshSessionClosedEventArgs>>();
  const config = theirConfig();
  const tcp: Server = createServer((socket: Socket) => {
    const session = new dt.SshServerSession(config);
    session.credentials = { publicKeys: hostKeys };
    open.add(session);
    closed.set(session, nextEvent(session.onClosed));
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
    sessions.push(session);
    session.connect(new dt.NodeStream(socket)).catch(() => session.dispose());
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  return {
    port: (tcp.address() as { port: number }).port,
    sessions,
    channels,
    requests,
    closed: (session) => closed.get(session)!,
    async close() {
      await Promise.all([...open].map((s) => s.close(dt.SshDisconnectReason.byApplication)));
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}

describe('dev-tunnels-ssh interop: our client against their server', () => {
  let server: TheirServer;
  let hostKeys: dt.KeyPair[];
  let hostBlobs: Buffer[];
  let userKeys: KeyPair[];

  beforeAll(async () => {
    [hostKeys, userKeys] = await Promise.all([theirKeys(), ourKeys()]);
    hostBlobs = await Promise.all(hostKeys.map(theirBlob));
    server = await startTheirServer(
      hostKeys,
      userKeys.map((k) => k.publicKeyBlob),
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Our client connected to their server, their host key checked against `hostBlobs`. */
  async function ourClient(config = ourConfig()) {
    const client = await connectClientTo(server.port, hostBlobs, config);
    const theirs = await server.sessions.take();
    return { client, theirs };
  }

  it.each(algorithmCases.map((c) => [c.name, c] as const))('negotiates %s with their server and echoes a channel round trip', async (_name, c) => {
    const { client } = await ourClient(ourConfig(c));
    try {
      expectNegotiated(client.algorithms, c);
      expect(await client.authenticate({ username, password })).toBe(true);
      const channel = await client.openChannel();
      const { channel: theirs } = await server.channels.take();
      await transferBothWays(theirs, channel, 64 * 1024, 4);
    } finally {
      await client.close();
    }
  });

  it('logs in by password with both default configurations and is refused with a wrong one', async () => {
    const { client } = await ourClient();
    try {
      expect(await client.authenticate({ username, password: 'wrong' })).toBe(false);
      expect(await client.authenticate({ username, password })).toBe(true);
      expect(client.authentication?.method).toBe('password');
    } finally {
      await client.close();
    }
  });

  it.each(['rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'].map((name, index) => [name, index] as const))(
    'logs in with our %s key',
    async (_name, index) => {
      const { client } = await ourClient();
      try {
        expect(await client.authenticate({ username, privateKeys: [userKeys[index]!] })).toBe(true);
        expect(client.authentication?.method).toBe('publickey');
      } finally {
        await client.close();
      }
    },
  );

  it('refuses their host key when our callback does', async () => {
    await expect(connectClientTo(server.port, [], ourConfig())).rejects.toThrow(/refused/);
    const theirs = await server.sessions.take();
    const closed = await server.closed(theirs);
    expect(closed.reason).toBe(dt.SshDisconnectReason.hostKeyNotVerifiable);
  });

  it('moves 4 MiB each way at once through a channel we open, with matching SHA-256', async () => {
    const { client } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { channel: theirs } = await server.channels.take();
      await transferBothWays(theirs, channel, 4 * MiB, 5);
    } finally {
      await client.close();
    }
  });

  it('moves 4 MiB each way through a channel their server opens to our client', async () => {
    const { client, theirs } = await ourClient();
    try {
      await client.authenticate({ username, password });
      // RFC 4254 §6.1: a client refuses session channels from the server unless it awaits that type.
      const [channel, opened] = await Promise.all([client.acceptChannel('session'), theirs.openChannel('session')]);
      await transferBothWays(opened, channel, 4 * MiB, 6);
    } finally {
      await client.close();
    }
  });

  it('gets SUCCESS for our custom channel request and FAILURE for an unknown one', async () => {
    const { client } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { requests } = await server.channels.take();
      expect(await channel.request({ requestType: customRequest, wantReply: true })).toBe(true);
      expect(await channel.request({ requestType: 'unknown-request', wantReply: true })).toBe(false);
      expect(requests).toEqual([customRequest, 'unknown-request']);
    } finally {
      await client.close();
    }
  });

  it('answers their custom channel request on a channel their server opened', async () => {
    const { client, theirs } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const [channel, opened] = await Promise.all([client.acceptChannel('session'), theirs.openChannel('session')]);
      channel.onRequest = (e) => e.requestType === customRequest;
      expect(await opened.request(new dt.ChannelRequestMessage(customRequest, true))).toBe(true);
      expect(await opened.request(new dt.ChannelRequestMessage('unknown-request', true))).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('answers global requests both ways', async () => {
    const { client, theirs } = await ourClient();
    try {
      await client.authenticate({ username, password });
      expect(await client.request({ requestType: globalRequest, wantReply: true })).toBe(true);
      expect(await client.request({ requestType: 'unknown@example.com', wantReply: true })).toBe(false);
      expect(server.requests.slice(-2)).toEqual([globalRequest, 'unknown@example.com']);
      client.onRequest = (e) => e.requestType === globalRequest;
      expect(await theirs.request(new dt.SessionRequestMessage(globalRequest, true))).toBe(true);
      expect(await theirs.request(new dt.SessionRequestMessage('unknown@example.com', true))).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('closes a channel from our side and their server sees it closed', async () => {
    const { client } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { channel: theirs } = await server.channels.take();
      const closedThere = nextEvent(theirs.onClosed);
      // Their library never answers CLOSE with CLOSE: our close() must not wait for it forever.
      await channel.close({ exitStatus: 9 });
      expect((await closedThere).exitStatus).toBe(9);
      expect(await channel.closed).toMatchObject({ closedBy: 'local' });
    } finally {
      await client.close();
    }
  });

  it('sees their channel close as closed by the remote', async () => {
    const { client } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { channel: theirs } = await server.channels.take();
      await theirs.close('TERM', 'stopped');
      expect(await channel.closed).toMatchObject({ closedBy: 'remote', exitSignal: 'TERM', errorMessage: 'stopped' });
    } finally {
      await client.close();
    }
  });

  it('sends our initial channel request with the open and their server answers it', async () => {
    const { client } = await ourClient();
    try {
      await client.authenticate({ username, password });
      expect(client.peerExtensions?.has('open-channel-request@microsoft.com')).toBe(true);
      const channel = await client.openChannel('session', { initialRequest: { requestType: customRequest, wantReply: true } });
      const { requests } = await server.channels.take();
      expect(requests).toEqual([customRequest]);
      expect(channel.channelType).toBe('session');
    } finally {
      await client.close();
    }
  });

  it('fails our openChannel when their server refuses the initial channel request', async () => {
    const { client } = await ourClient();
    try {
      await client.authenticate({ username, password });
      await expect(client.openChannel('session', { initialRequest: { requestType: 'refused-request', wantReply: true } })).rejects.toThrow();
    } finally {
      await client.close();
    }
  });

  it('keeps the session alive on our keepalives, which their server answers', async () => {
    const config = ourConfig();
    config.keepAliveInterval = 1;
    config.keepAliveCountMax = 1;
    const { client } = await ourClient(config);
    try {
      await client.authenticate({ username, password });
      const before = client.metrics.packetsReceived;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(client.isConnected).toBe(true);
      expect(client.metrics.packetsReceived).toBeGreaterThan(before);
      expect(await client.request({ requestType: globalRequest, wantReply: true })).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('fails to negotiate aes256-cbc, which their package does not implement', async () => {
    const config = ourConfig();
    config.encryptionAlgorithms = ['aes256-cbc'];
    await expect(connectClientTo(server.port, hostBlobs, config)).rejects.toThrow(/encryption|cipher|algorithm/i);
    await server.sessions.take();
  });

  it('closes the session from our side and their server sees the reason and message', async () => {
    const { client, theirs } = await ourClient();
    await client.authenticate({ username, password });
    const closedThere = server.closed(theirs);
    await client.close(DisconnectReason.byApplication, 'our goodbye');
    const e = await closedThere;
    expect(e.reason).toBe(dt.SshDisconnectReason.byApplication);
    expect(e.message).toBe('our goodbye');
  });

  it('sees their session close with its reason and message', async () => {
    const { client, theirs } = await ourClient();
    await client.authenticate({ username, password });
    await theirs.close(dt.SshDisconnectReason.byApplication, 'their goodbye');
    expect(await client.closed).toMatchObject({ reason: DisconnectReason.byApplication, description: 'their goodbye', initiatedBy: 'remote' });
  });
});

/** Our client connected to `port`, accepting only host keys whose blob is in `blobs`. */
async function connectClientTo(port: number, blobs: readonly Uint8Array[], config: SessionConfig): Promise<ClientSession> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  const client = new ClientSession(config);
  client.onAuthenticating = (e) => blobs.some((blob) => Buffer.from(blob).equals(e.publicKey.publicKeyBlob));
  await client.connect(socketToDuplex(socket));
  return client;
}
