/**
 * Interop with `@microsoft/dev-tunnels-ssh`, their client against our TcpServer on 127.0.0.1:
 * every key exchange, cipher, MAC and host key algorithm they implement, password and public key
 * authentication with their host key check, channels opened either way with hashed transfers,
 * channel and global requests, their open-channel-request@microsoft.com initial request,
 * keepalives, and channel and session close seen by the other side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dt from '@microsoft/dev-tunnels-ssh';
import * as dtTcp from '@microsoft/dev-tunnels-ssh-tcp';
import { SessionConfig } from '../../lib/config.js';
import { DisconnectReason } from '../../lib/errors.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';
import { TcpServer } from '../../lib/tcp/index.js';
import type { ServerSession } from '../../lib/server-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import type { ServerAuthenticatingEvent } from '../../lib/auth/types.js';
import {
  MiB, Queue, algorithmCases, answerCustomRequests, customRequest, expectNegotiated, globalRequest, nextEvent, ourKeys,
  password, theirBlob, theirConfig, theirConfigWithoutInitialRequests, theirKeys, transferBothWays, username,
} from './dev-tunnels-peers.js';

describe('dev-tunnels-ssh interop: their client against our server', () => {
  let server: TcpServer;
  let hostKeys: KeyPair[];
  let userKeys: dt.KeyPair[];
  /** Each session our server accepted, with the channels their client opened on it. */
  const sessions = new Queue<{ session: ServerSession; channels: Queue<Channel> }>();
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
      const channels = new Queue<Channel>();
      sessions.push({ session, channels });
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
    const { session: ours, channels } = await sessions.take();
    return { client, session, ours, channels, authenticated, hostKeyBlobs };
  }

  it.each(algorithmCases.map((c) => [c.name, c] as const))('negotiates %s with their client and echoes a channel round trip', async (_name, c) => {
    const { client, session, ours, authenticated, channels } = await theirClient(theirConfig(c));
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
    const { session: ours } = await sessions.take();
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
    const { client, session, channels } = await theirClient();
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
    const { client, session, channels } = await theirClient();
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
    const { client, session, channels } = await theirClient();
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
    const { client, session, channels } = await theirClient();
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
    const { client, session, channels } = await theirClient();
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

  it('serves their initial channel request as a plain channel request when their client lacks the extension', async () => {
    const { client, session, ours, channels } = await theirClient(theirConfigWithoutInitialRequests());
    try {
      expect(session.protocolExtensions?.has('open-channel-request@microsoft.com')).toBe(false);
      // Their EXT_INFO does not announce it, so our side would not bundle requests to them either.
      expect(ours.connection?.initialRequestSupport).toBe('unsupported');
      const open = new dt.ChannelOpenMessage();
      open.channelType = 'session';
      await session.openChannel(open, new dt.ChannelRequestMessage(customRequest, true));
      expect(channelRequests.get(await channels.take())).toEqual([customRequest]);
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
    const { client, session, ours, channels } = await theirClient();
    try {
      await session.openChannel();
      const channel = await channels.take();
      await session.close(dt.SshDisconnectReason.byApplication, 'their goodbye');
      expect(await ours.closed).toMatchObject({ reason: DisconnectReason.byApplication, description: 'their goodbye', initiatedBy: 'remote' });
      // Their session may send CHANNEL_CLOSE for its channels before DISCONNECT, or not get to it.
      expect(['remote', 'session']).toContain((await channel.closed).closedBy);
    } finally {
      client.dispose();
    }
  });

  it('closes the session from our side and their client sees the reason and message', async () => {
    const { client, session, ours, channels } = await theirClient();
    try {
      const theirs = await session.openChannel();
      await channels.take();
      const closedThere = nextEvent(session.onClosed);
      await ours.close(DisconnectReason.byApplication, 'our goodbye');
      const e = await closedThere;
      expect(e.reason).toBe(dt.SshDisconnectReason.byApplication);
      expect(e.message).toBe('our goodbye');
      expect(session.isClosed).toBe(true);
      expect(theirs.isClosed).toBe(true);
    } finally {
      client.dispose();
    }
  });
});
