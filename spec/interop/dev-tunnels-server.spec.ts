/**
 * Interop with `@microsoft/dev-tunnels-ssh`, our client against their SshServerSession on
 * 127.0.0.1: every key exchange, cipher, MAC and host key algorithm they implement, password and
 * public key authentication with our host key check, channels opened either way with hashed
 * transfers, channel and global requests, our initial channel request, keepalives, and channel
 * and session close seen by the other side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dt from '@microsoft/dev-tunnels-ssh';
import { DisconnectReason } from '../../lib/errors.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';
import {
  MiB, algorithmCases, connectClientTo, customRequest, expectNegotiated, globalRequest, nextEvent, ourConfig, ourKeys,
  password, startTheirServer, theirBlob, theirConfigWithoutInitialRequests, theirKeys, transferBothWays, username, type TheirServer,
} from './dev-tunnels-peers.js';

describe('dev-tunnels-ssh interop: our client against their server', () => {
  let server: TheirServer;
  let hostKeys: dt.KeyPair[];
  let hostBlobs: Buffer[];
  let userKeys: KeyPair[];

  beforeAll(async () => {
    [hostKeys, userKeys] = await Promise.all([theirKeys(), ourKeys()]);
    hostBlobs = await Promise.all(hostKeys.map(theirBlob));
    server = await startTheirServer(hostKeys, userKeys.map((k) => k.publicKeyBlob));
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Our client connected to their server, their host key checked against `hostBlobs`. */
  async function ourClient(config = ourConfig()) {
    const client = await connectClientTo(server.port, hostBlobs, config);
    const { session: theirs, channels, closed } = await server.sessions.take();
    return { client, theirs, channels, closed };
  }

  it.each(algorithmCases.map((c) => [c.name, c] as const))('negotiates %s with their server and echoes a channel round trip', async (_name, c) => {
    const { client, channels } = await ourClient(ourConfig(c));
    try {
      expectNegotiated(client.algorithms, c);
      expect(await client.authenticate({ username, password })).toBe(true);
      const channel = await client.openChannel();
      const { channel: theirs } = await channels.take();
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
    const closed = await (await server.sessions.take()).closed;
    expect(closed.reason).toBe(dt.SshDisconnectReason.hostKeyNotVerifiable);
  });

  it('moves 4 MiB each way at once through a channel we open, with matching SHA-256', async () => {
    const { client, channels } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { channel: theirs } = await channels.take();
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
    const { client, channels } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { requests } = await channels.take();
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
    const { client, channels } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { channel: theirs } = await channels.take();
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
    const { client, channels } = await ourClient();
    try {
      await client.authenticate({ username, password });
      const channel = await client.openChannel();
      const { channel: theirs } = await channels.take();
      await theirs.close('TERM', 'stopped');
      expect(await channel.closed).toMatchObject({ closedBy: 'remote', exitSignal: 'TERM', errorMessage: 'stopped' });
    } finally {
      await client.close();
    }
  });

  it('sends our initial channel request with the open and their server answers it', async () => {
    const { client, channels } = await ourClient();
    try {
      await client.authenticate({ username, password });
      expect(client.peerExtensions?.has('open-channel-request@microsoft.com')).toBe(true);
      expect(client.connection?.initialRequestSupport).toBe('supported');
      const channel = await client.openChannel('session', { initialRequest: { requestType: customRequest, wantReply: true } });
      const { requests } = await channels.take();
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
      await expect(client.openChannel('session', { initialRequest: { requestType: 'refused-request', wantReply: true } })).rejects.toThrow(/denied/);
    } finally {
      await client.close();
    }
  });

  it('sends our initial channel request as a plain channel request to their server without the extension', async () => {
    const plain = await startTheirServer(hostKeys, userKeys.map((k) => k.publicKeyBlob), theirConfigWithoutInitialRequests());
    const client = await connectClientTo(plain.port, hostBlobs, ourConfig());
    try {
      await client.authenticate({ username, password });
      expect(client.peerExtensions?.has('open-channel-request@microsoft.com')).toBe(false);
      expect(client.connection?.initialRequestSupport).toBe('unsupported');
      await client.openChannel('session', { initialRequest: { requestType: customRequest, wantReply: true } });
      expect((await (await plain.sessions.take()).channels.take()).requests).toEqual([customRequest]);
      await expect(client.openChannel('session', { initialRequest: { requestType: 'refused-request', wantReply: true } })).rejects.toThrow(/denied/);
    } finally {
      await client.close();
      await plain.close();
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
    const { client, channels, closed } = await ourClient();
    await client.authenticate({ username, password });
    await client.openChannel();
    const { channel } = await channels.take();
    await client.close(DisconnectReason.byApplication, 'our goodbye');
    const e = await closed;
    expect(e.reason).toBe(dt.SshDisconnectReason.byApplication);
    expect(e.message).toBe('our goodbye');
    expect(channel.isClosed).toBe(true);
  });

  it('sees their session close with its reason and message', async () => {
    const { client, theirs, channels } = await ourClient();
    await client.authenticate({ username, password });
    const channel = await client.openChannel();
    await channels.take();
    await theirs.close(dt.SshDisconnectReason.byApplication, 'their goodbye');
    expect(await client.closed).toMatchObject({ reason: DisconnectReason.byApplication, description: 'their goodbye', initiatedBy: 'remote' });
    expect(await channel.closed).toMatchObject({ closedBy: 'session' });
  });
});
