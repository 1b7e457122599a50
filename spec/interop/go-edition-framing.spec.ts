/**
 * The Go edition of Dev Tunnels SSH pads cleartext packets (before the first NEWKEYS, and all
 * along under kex `none`) so that packet_length alone is a multiple of 8. These specs replay that
 * framing against our client and our server, so CI proves the two talk without a Go toolchain,
 * and check that what we send stays RFC 4253 §6 aligned.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { SessionConfig } from '../../lib/config.js';
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import { checkPacketLength } from '../../lib/cipher/packet-length.js';
import { ProtocolError } from '../../lib/errors.js';
import { duplexPair, readAll, type ByteDuplex } from '../helpers/pipes.js';
import { testHostKey } from '../helpers/pairs.js';
import { randomBytes } from '../helpers/random.js';
import { CleartextFraming, framedWrites } from '../helpers/cleartext-framing.js';

const KEXINIT = 20;
const NEWKEYS = 21;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Echoes every channel the server accepts. */
function echoChannels(server: ServerSession): void {
  void (async () => {
    for await (const channel of server.channels) void channel.readable.pipeTo(channel.writable).catch(() => {});
  })();
}

/** Sends `data` through an echo channel and checks what comes back. */
async function echoThrough(channel: Channel, data: Uint8Array): Promise<void> {
  const writer = channel.writable.getWriter();
  const sent = (async () => {
    for (let i = 0; i < data.length; i += 50_000) await writer.write(data.subarray(i, i + 50_000));
    await writer.close();
  })();
  const [received] = await Promise.all([readAll(channel.readable), sent]);
  expect(sha256(received)).toBe(sha256(data));
}

async function connectPair(options: {
  config: () => SessionConfig;
  clientLink: (d: ByteDuplex) => ByteDuplex;
  serverLink: (d: ByteDuplex) => ByteDuplex;
}): Promise<{ client: ClientSession; server: ServerSession }> {
  const [a, b] = duplexPair();
  const hostKey = await testHostKey();
  const client = new ClientSession(options.config());
  const server = new ServerSession(options.config(), { hostKeys: [hostKey] });
  client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
  server.onAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
  await Promise.all([client.connect(options.clientLink(a)), server.connect(options.serverLink(b))]);
  return { client, server };
}

describe('Go edition cleartext framing', () => {
  it('our server accepts a client that aligns packet_length alone, and answers RFC-aligned', async () => {
    const go = new CleartextFraming({ goPadding: true });
    const ours = new CleartextFraming({ goPadding: false });
    const { client, server } = await connectPair({
      config: () => SessionConfig.default(),
      clientLink: (d) => framedWrites(d, go),
      serverLink: (d) => framedWrites(d, ours),
    });
    try {
      expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
      echoChannels(server);
      await echoThrough(await client.openChannel(), randomBytes(1024 * 1024, 'go-client'));
      // Our client's KEXINIT, kex message and NEWKEYS were RFC-aligned; each reached the server
      // re-padded the Go way, which can never be RFC-aligned (packet_length % 8 == 0).
      expect(go.log.types[0]).toBe(KEXINIT);
      expect(go.log.types.at(-1)).toBe(NEWKEYS);
      expect(go.log.reframed).toBe(go.log.types.length);
      expect(go.log.rfcAligned).toBe(go.log.types.length);
      // What we sent in clear kept RFC 4253 §6 alignment.
      expect(ours.log.types.length).toBeGreaterThanOrEqual(3);
      expect(ours.log.rfcAligned).toBe(ours.log.types.length);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('our client accepts a server that aligns packet_length alone', async () => {
    const go = new CleartextFraming({ goPadding: true });
    const { client, server } = await connectPair({
      config: () => SessionConfig.default(),
      clientLink: (d) => d,
      serverLink: (d) => framedWrites(d, go),
    });
    try {
      expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
      echoChannels(server);
      await echoThrough(await client.openChannel(), randomBytes(1024 * 1024, 'go-server'));
      expect(go.log.types).toContain(NEWKEYS);
      expect(go.log.reframed).toBe(go.log.types.length);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a whole no-security session framed the Go way in both directions', async () => {
    const fromClient = new CleartextFraming({ goPadding: true });
    const fromServer = new CleartextFraming({ goPadding: true });
    const { client, server } = await connectPair({
      config: () => SessionConfig.noSecurity(),
      clientLink: (d) => framedWrites(d, fromClient),
      serverLink: (d) => framedWrites(d, fromServer),
    });
    try {
      expect(client.algorithms).toMatchObject({ kex: 'none', encryptionClientToServer: 'none' });
      echoChannels(server);
      const data = randomBytes(2 * 1024 * 1024, 'go-none');
      const [first, second] = await Promise.all([client.openChannel(), client.openChannel()]);
      await Promise.all([echoThrough(first, data), echoThrough(second, data.subarray(1000))]);
      // No NEWKEYS under kex none: every packet of the session, channel data included, was re-framed.
      expect(fromClient.log.types).not.toContain(NEWKEYS);
      expect(fromClient.log.reframed).toBeGreaterThan(50);
      expect(fromServer.log.reframed).toBeGreaterThan(50);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('accepts the Go alignment only while no cipher protects the direction', () => {
    // 512 + 4 is not a multiple of 8: the Go edition's KEXINIT length from the issue report.
    expect(checkPacketLength(512, 8, false, true)).toBe(512);
    expect(checkPacketLength(508, 8, false, true)).toBe(508);
    expect(() => checkPacketLength(512, 8, false)).toThrow(ProtocolError);
    expect(() => checkPacketLength(512, 16, false)).toThrow(/Invalid packet_length 512: it plus 4 is not a multiple of the block size 16/);
    expect(() => checkPacketLength(510, 8, false, true)).toThrow(ProtocolError);
  });
});
