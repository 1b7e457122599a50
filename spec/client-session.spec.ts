import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { ClientSession } from '../lib/client-session.js';
import { ServerSession } from '../lib/server-session.js';
import { SessionConfig } from '../lib/config.js';
import { generateKeyPair } from '../lib/keys/key-pair.js';
import { ChannelOpenError, HostKeyError, SshError } from '../lib/errors.js';
import { serveExec } from '../lib/session/exec.js';
import type { Channel } from '../lib/mux/channel.js';
import { duplexPair, readAll } from './helpers/pipes.js';
import { sessionPair, testHostKey } from './helpers/pairs.js';

async function drain(readable: ReadableStream<Uint8Array>): Promise<string> {
  return Buffer.from(await readAll(readable)).toString('utf8');
}

describe('ClientSession', () => {
  it('refuses the connection when no handler verifies the host key', async () => {
    const [a, b] = duplexPair();
    const client = new ClientSession();
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [await testHostKey()] });
    const results = await Promise.allSettled([client.connect(a), server.connect(b)]);
    expect(results[0].status).toBe('rejected');
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(HostKeyError);
    const serverEnd = await server.closed.catch((e) => e);
    expect(serverEnd.reason).toBe(9);
  });

  it('rejects a server whose key differs from the pinned one (host key pinning)', async () => {
    const pinned = await generateKeyPair('ssh-ed25519');
    const [a, b] = duplexPair();
    const client = new ClientSession();
    client.onAuthenticating = (e) => e.publicKey.equals(pinned);
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [await testHostKey()] });
    const [c] = await Promise.allSettled([client.connect(a), server.connect(b)]);
    expect((c as PromiseRejectedResult).reason.message).toMatch(/refused by onAuthenticating/);
  });

  it('authenticates, opens a channel and echoes data through pipeTo', async () => {
    const { client, server } = await sessionPair();
    expect(server.username).toBe('user');
    expect(server.principal).toBe(true);
    void (async () => {
      for await (const ch of server.channels) void ch.readable.pipeTo(ch.writable);
    })();
    const channel = await client.openChannel();
    const writer = channel.writable.getWriter();
    const text = 'hello over ssh-streams\n'.repeat(5000);
    void writer.write(new TextEncoder().encode(text)).then(() => writer.close());
    expect(await drain(channel.readable)).toBe(text);
    await client.close();
    await expect(server.closed).resolves.toMatchObject({ initiatedBy: 'remote' });
  });

  it('iterates channels started before authentication, and ends the loop when the session closes without it', async () => {
    const { client, server } = await sessionPair({ authenticate: false });
    const seen: string[] = [];
    const loop = (async () => {
      for await (const ch of server.channels) seen.push(ch.channelType);
      return 'ended';
    })();
    await client.authenticate({ username: 'user', password: 'secret' });
    await client.openChannel();
    await client.openChannel('session');
    await expect.poll(() => seen.length).toBe(2);
    await client.close();
    await expect(loop).resolves.toBe('ended');

    const unauthenticated = await sessionPair({ authenticate: false });
    const never = (async () => {
      for await (const _ of unauthenticated.server.channels) return 'a channel';
      return 'ended';
    })();
    await unauthenticated.client.close();
    await expect(never).resolves.toBe('ended');
  });

  it('refuses channels and global requests before authentication', async () => {
    const { client } = await sessionPair({ authenticate: false });
    await expect(client.openChannel()).rejects.toThrow(/not authenticated yet/);
    await client.close();
  });

  it('runs a command with exec and reports its output and exit status', async () => {
    const { client, server } = await sessionPair();
    void (async () => {
      for await (const ch of server.channels) serveExec(ch);
    })();
    const channel = await client.openChannel();
    expect(await channel.exec('echo out; echo err >&2; exit 3')).toBe(true);
    channel.writable.getWriter().close().catch(() => {});
    const [out, err] = await Promise.all([drain(channel.readable), drain(channel.stderr)]);
    expect(out).toBe('out\n');
    expect(err).toBe('err\n');
    expect((await channel.closed).exitStatus).toBe(3);
    await client.close();
  });

  it('runs a session inside a channel of another session (SSH over SSH)', async () => {
    const { client: outer, server: outerServer } = await sessionPair();
    const innerServerKey = await generateKeyPair('ecdsa-sha2-nistp256');
    const innerDone = (async () => {
      const ch = await outerServer.acceptChannel();
      const inner = new ServerSession(SessionConfig.default(), { hostKeys: [innerServerKey] });
      inner.onAuthenticating = (e) => e.username === 'deep';
      await inner.connect(ch);
      const innerChannel = await inner.acceptChannel();
      await innerChannel.readable.pipeTo(innerChannel.writable);
    })();
    const tunnel = await outer.openChannel();
    const inner = new ClientSession();
    inner.onAuthenticating = (e) => e.publicKey.equals(innerServerKey);
    await inner.connect(tunnel);
    expect(await inner.authenticate({ username: 'deep' })).toBe(true);
    const ch = await inner.openChannel();
    const w = ch.writable.getWriter();
    void w.write(new TextEncoder().encode('nested')).then(() => w.close());
    expect(await drain(ch.readable)).toBe('nested');
    await innerDone;
    expect(inner.algorithms!.serverHostKey).toBe('ecdsa-sha2-nistp256');
    await outer.close();
  });

  it('delivers a custom message number to config.messageHandlers', async () => {
    const serverConfig = SessionConfig.default();
    const got: number[][] = [];
    serverConfig.messageHandlers.set(200, (payload) => void got.push([...payload]));
    const { client } = await sessionPair({ serverConfig });
    await client.sendMessage(new Uint8Array([200, 7, 8]));
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(got).toEqual([[200, 7, 8]]);
    await client.close();
  });

  it('moves 256 MiB each way intact (SHA-256) while the session re-keys', async () => {
    const config = () => Object.assign(SessionConfig.default(), { keyRotationThreshold: 32 * 1024 * 1024 });
    const { client, server } = await sessionPair({ clientConfig: config(), serverConfig: config() });
    const size = 256 * 1024 * 1024;
    const chunk = 256 * 1024;
    const source = (seed: number) => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          const n = Math.min(chunk, size - sent);
          if (n === 0) return c.close();
          const b = new Uint8Array(n);
          for (let i = 0; i < n; i += 4096) b[i] = (i + sent + seed) & 0xff;
          sent += n;
          c.enqueue(b);
        },
      });
    };
    const expected = async (seed: number) => {
      const h = createHash('sha256');
      const r = source(seed).getReader();
      for (;;) {
        const { value, done } = await r.read();
        if (done) return h.digest('hex');
        h.update(value);
      }
    };
    const hashOf = async (readable: ReadableStream<Uint8Array>) => {
      const h = createHash('sha256');
      let n = 0;
      for await (const c of readable) {
        h.update(c);
        n += c.length;
      }
      return { hash: h.digest('hex'), n };
    };
    const serverSide = (async () => {
      const ch: Channel = await server.acceptChannel();
      const [received] = await Promise.all([hashOf(ch.readable), source(2).pipeTo(ch.writable)]);
      return received;
    })();
    const ch = await client.openChannel();
    const [atClient] = await Promise.all([hashOf(ch.readable), source(1).pipeTo(ch.writable)]);
    const atServer = await serverSide;
    expect(atServer).toEqual({ hash: await expected(1), n: size });
    expect(atClient).toEqual({ hash: await expected(2), n: size });
    expect(client.metrics.keyExchanges).toBeGreaterThanOrEqual(7);
    await client.close();
  }, 120_000);

  it('keeps other channels, global requests and a re-key moving while one reader is stalled', async () => {
    const { client, server } = await sessionPair();
    server.onRequest = (e) => e.requestType === 'ping';
    const serverChannels: Channel[] = [];
    void (async () => {
      for await (const ch of server.channels) serverChannels.push(ch);
    })();
    // The first channel is never read on the client side.
    await client.openChannel();
    const moving = await client.openChannel();
    for (let i = 0; i < 100 && serverChannels.length < 2; i++) await new Promise((r) => setTimeout(r, 2));
    // Fill the stalled channel's window completely: nobody reads it on the client.
    const stalledWriter = serverChannels[0]!.writable.getWriter();
    const blocked = stalledWriter.write(new Uint8Array(8 * 1024 * 1024));
    const echo = serverChannels[1]!.readable.pipeTo(serverChannels[1]!.writable);
    await client.rekey();
    expect(await client.request({ requestType: 'ping', wantReply: true })).toBe(true);
    const w = moving.writable.getWriter();
    void w.write(new Uint8Array(3 * 1024 * 1024).fill(5)).then(() => w.close());
    const back = await readAll(moving.readable);
    expect(back.length).toBe(3 * 1024 * 1024);
    await echo;
    let settled = false;
    void blocked.then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    expect(client.metrics.keyExchanges).toBe(2);
    await client.close();
  });

  it('fails pending channel operations with the session error when the peer disconnects', async () => {
    const { client, server } = await sessionPair();
    const accepted = server.acceptChannel();
    const ch = await client.openChannel();
    await accepted;
    const reading = ch.readable.getReader().read().catch((e) => e);
    await server.close(11, 'bye');
    const err = await reading;
    expect(err).toBeInstanceOf(SshError);
  });
});

describe('ClientSession with SessionConfig.noSecurity()', () => {
  it('connects without a host key, authenticates with none and carries channel data', async () => {
    const { client, server } = await sessionPair({
      clientConfig: SessionConfig.noSecurity(),
      serverConfig: SessionConfig.noSecurity(),
      hostKeys: [],
      onAuthenticating: (e) => e.authenticationType === 'none',
      authenticate: false,
    });
    expect(client.algorithms).toMatchObject({ kex: 'none', encryptionClientToServer: 'none' });
    expect(await client.authenticate({ username: 'anyone' })).toBe(true);
    void server.acceptChannel().then((ch) => ch.readable.pipeTo(ch.writable));
    const ch = await client.openChannel();
    const w = ch.writable.getWriter();
    void w.write(new TextEncoder().encode('plain')).then(() => w.close());
    expect(await drain(ch.readable)).toBe('plain');
    await client.close();
  });
});

describe('ClientSession with SessionConfig.noSecurity() and rotation settings', () => {
  it('never re-keys: kex none has no keys to rotate and no NEWKEYS to reset the byte count', async () => {
    const config = () => Object.assign(SessionConfig.noSecurity(), { keyRotationThreshold: 64 * 1024, keyRotationInterval: 10 });
    const { client, server } = await sessionPair({
      clientConfig: config(),
      serverConfig: config(),
      hostKeys: [],
      onAuthenticating: () => true,
      authenticate: false,
    });
    void server.acceptChannel().then((ch) => ch.readable.pipeTo(ch.writable));
    const ch = await client.openChannel();
    const w = ch.writable.getWriter();
    const chunk = new Uint8Array(16 * 1024).fill(3);
    const echoed = (async () => {
      let n = 0;
      for await (const part of ch.readable) n += part.length;
      return n;
    })();
    for (let i = 0; i < 64; i++) await w.write(chunk);
    await w.close();
    expect(await echoed).toBe(64 * chunk.length);
    await new Promise((r) => setTimeout(r, 50));
    expect(client.metrics.keyExchanges).toBe(1);
    expect(server.metrics.keyExchanges).toBe(1);
    // Asked for explicitly, the exchange still runs (KEXINITs only) and the session goes on.
    await client.rekey();
    expect(client.metrics.keyExchanges).toBe(2);
    const again = await client.openChannel();
    await again.close();
    await client.close();
  });
});

describe('ClientSession re-keying on a timer', () => {
  it('re-keys every keyRotationInterval milliseconds', async () => {
    const config = () => Object.assign(SessionConfig.default(), { keyRotationInterval: 25 });
    const { client } = await sessionPair({ clientConfig: config(), serverConfig: config() });
    for (let i = 0; i < 400 && client.metrics.keyExchanges < 4; i++) await new Promise((r) => setTimeout(r, 5));
    expect(client.metrics.keyExchanges).toBeGreaterThanOrEqual(4);
    expect(client.isConnected).toBe(true);
    await client.close();
  });

  it('applies a client onChannelOpening handler set after authentication', async () => {
    const pair = await sessionPair();
    const seen: string[] = [];
    pair.client.onChannelOpening = (e) => {
      seen.push(e.channelType);
      e.reject(1, 'refused by the late handler');
    };
    const refused = await pair.server.openChannel('late@example.com').catch((e) => e);
    expect(refused).toBeInstanceOf(ChannelOpenError);
    expect(refused.description).toBe('refused by the late handler');
    expect(seen).toEqual(['late@example.com']);
    pair.client.onChannelOpening = undefined;
    const unknown = await pair.server.openChannel('late@example.com').catch((e) => e);
    expect(unknown.description).toBe('Unknown channel type late@example.com');
    await pair.client.close();
  });
});
