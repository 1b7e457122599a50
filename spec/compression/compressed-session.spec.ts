import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { constants, inflateSync } from 'node:zlib';
import { SessionConfig } from '../../lib/config.js';
import { DisconnectError, DisconnectReason } from '../../lib/errors.js';
import { sessionPair } from '../helpers/pairs.js';
import { concatBytes, duplexPair, tcpPair, type ByteDuplex } from '../helpers/pipes.js';
import type { Channel } from '../../lib/mux/channel.js';
import { logText } from '../helpers/compressible.js';

const compressible = (bytes: number): Uint8Array => new Uint8Array(logText(bytes));

const MiB = 1024 * 1024;

function config(compression: string[], plaintext = false): SessionConfig {
  const c = SessionConfig.default();
  c.compressionAlgorithms = compression;
  if (plaintext) {
    // Cipher and MAC `none` after a real key exchange leave the payloads readable on the wire.
    c.encryptionAlgorithms = ['none'];
    c.hmacAlgorithms = ['none'];
  }
  return c;
}

/** Records every chunk each way; `corruptNextWrite` overwrites the payload of the next packet sent. */
function tap(inner: ByteDuplex) {
  const sent: Uint8Array[] = [];
  const received: Uint8Array[] = [];
  const state = { corruptNextWrite: false };
  const outbound = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (state.corruptNextWrite) {
        state.corruptNextWrite = false;
        chunk = chunk.slice();
        const packetLength = new DataView(chunk.buffer, chunk.byteOffset).getUint32(0);
        chunk.fill(0xff, 5, 4 + packetLength - chunk[4]!);
      }
      sent.push(chunk.slice());
      controller.enqueue(chunk);
    },
  });
  void outbound.readable.pipeTo(inner.writable).catch(() => {});
  const readable = inner.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received.push(chunk.slice());
        controller.enqueue(chunk);
      },
    }),
  );
  return { duplex: { readable, writable: outbound.writable }, sent, received, state };
}

/** Payloads of a plaintext (cipher and MAC `none`) byte stream, after the identification line. */
function payloadsOf(chunks: readonly Uint8Array[]): Uint8Array[] {
  const bytes = concatBytes(chunks);
  let at = bytes.indexOf(0x0a) + 1;
  const out: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  while (at + 5 <= bytes.length) {
    const packetLength = view.getUint32(at);
    out.push(bytes.subarray(at + 5, at + 4 + packetLength - bytes[at + 4]!));
    at += 4 + packetLength;
  }
  return out;
}

/** The messages that a run of compressed payloads (one direction, one zlib stream) inflates to. */
function inflated(payloads: readonly Uint8Array[]): Buffer {
  return inflateSync(concatBytes(payloads), { finishFlush: constants.Z_SYNC_FLUSH });
}


async function echoPair(clientConfig: SessionConfig, serverConfig = SessionConfig.default()) {
  const { client, server } = await sessionPair({ clientConfig, serverConfig, link: await tcpLink() });
  void (async () => {
    for await (const ch of server.channels) void ch.readable.pipeTo(ch.writable).catch(() => {});
  })();
  return { client, server, channel: await client.openChannel() };
}

async function tcpLink(): Promise<[ByteDuplex, ByteDuplex]> {
  const tcp = await tcpPair();
  return [tcp.client, tcp.server];
}

/** Writes `data` in 1 MiB slices (calling `midway` halfway) and hashes what comes back. */
async function roundTrip(channel: Channel, data: Uint8Array, midway: () => Promise<void> = async () => {}) {
  const writer = channel.writable.getWriter();
  const writing = (async () => {
    for (let at = 0; at < data.length; at += MiB) {
      if (at === Math.floor(data.length / MiB / 2) * MiB) await midway();
      await writer.write(data.slice(at, at + MiB));
    }
    await writer.close();
  })();
  const hash = createHash('sha256');
  let received = 0;
  for await (const chunk of channel.readable) {
    hash.update(chunk);
    received += chunk.length;
  }
  await writing;
  return { received, sha256: hash.digest('hex') };
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('compressed sessions (ours with ours)', () => {
  it('negotiates none with both default lists, and compression when the client asks first for it', async () => {
    const plain = await sessionPair();
    expect(plain.client.algorithms?.compressionClientToServer).toBe('none');
    expect(plain.client.algorithms?.compressionServerToClient).toBe('none');
    await plain.client.close();
    const asked = await sessionPair({ clientConfig: config(['zlib@openssh.com', 'none']) });
    expect(asked.server.algorithms?.compressionClientToServer).toBe('zlib@openssh.com');
    expect(asked.server.algorithms?.compressionServerToClient).toBe('zlib@openssh.com');
    await asked.client.close();
    const refused = await sessionPair({ clientConfig: config(['zlib@openssh.com', 'none']), serverConfig: config(['none']) });
    expect(refused.client.algorithms?.compressionClientToServer).toBe('none');
    await refused.client.close();
    // Plain zlib (compression before authentication) only where the server lists it explicitly.
    const preAuth = await sessionPair({ clientConfig: config(['zlib', 'none']) });
    expect(preAuth.client.algorithms?.compressionClientToServer).toBe('none');
    await preAuth.client.close();
  });

  it('sends everything up to USERAUTH_SUCCESS uncompressed under zlib@openssh.com, and compresses after it', async () => {
    const [a, b] = duplexPair();
    const wire = tap(a);
    const { client, server } = await sessionPair({
      clientConfig: config(['zlib@openssh.com', 'none'], true),
      serverConfig: config(['none', 'zlib@openssh.com'], true),
      link: [wire.duplex, b],
    });
    const accepted = server.acceptChannel();
    const channel = await client.openChannel();
    await accepted;
    await channel.close();
    await client.close();

    const up = payloadsOf(wire.sent);
    // The zlib stream starts with its header, in the first packet after authentication.
    const start = up.findIndex((p) => p[0] === 0x78 && p[1] === 0x9c);
    // KEXINIT, KEX_ECDH_INIT, NEWKEYS, EXT_INFO, SERVICE_REQUEST, USERAUTH_REQUESTs: readable as they are.
    expect(up.slice(0, start).map((p) => p[0])).toEqual([20, 30, 21, 7, 5, ...up.slice(5, start).map(() => 50)]);
    expect(Buffer.from(up[start - 1]!).includes('secret')).toBe(true);
    // After it, CHANNEL_OPEN 'session' once inflated.
    const upMessages = inflated(up.slice(start));
    expect(upMessages[0]).toBe(90);
    expect(upMessages.includes('session')).toBe(true);

    const down = payloadsOf(wire.received);
    const success = down.findIndex((p) => p.length === 1 && p[0] === 52);
    expect(success).toBeGreaterThan(0);
    expect(down.slice(0, success).every((p) => [20, 31, 21, 6, 7, 51, 53].includes(p[0]!))).toBe(true);
    const downMessages = inflated(down.slice(success + 1));
    expect(downMessages[0]).toBe(91);
  });

  it('compresses from the first NEWKEYS under zlib, authentication included', async () => {
    const [a, b] = duplexPair();
    const wire = tap(a);
    const { client } = await sessionPair({
      clientConfig: config(['zlib', 'none'], true),
      serverConfig: config(['none', 'zlib'], true),
      link: [wire.duplex, b],
    });
    expect(client.algorithms?.compressionClientToServer).toBe('zlib');
    await client.close();
    const up = payloadsOf(wire.sent);
    expect(up.slice(0, 3).map((p) => p[0])).toEqual([20, 30, 21]);
    const messages = inflated(up.slice(3));
    expect(messages[0]).toBe(7);
    expect(messages.includes('ssh-userauth')).toBe(true);
    expect(messages.includes('secret')).toBe(true);
    expect(up.slice(3).some((p) => Buffer.from(p).includes('secret'))).toBe(false);
  });

  it.each(['zlib@openssh.com', 'zlib'])(
    'moves 16 MiB each way intact under %s with re-keys midway, in far fewer bytes on the wire',
    async (method) => {
      const serverConfig = config(['none', 'zlib@openssh.com', 'zlib']);
      // A re-key every 512 KiB of wire bytes besides the one the client asks for midway.
      serverConfig.keyRotationThreshold = MiB / 2;
      const { client, server, channel } = await echoPair(config([method, 'none']), serverConfig);
      const data = compressible(16 * MiB);
      const before = client.metrics;
      const result = await roundTrip(channel, data, () => client.rekey());
      const after = client.metrics;
      expect(result.received).toBe(data.length);
      expect(result.sha256).toBe(sha256(data));
      const sent = after.bytesSent - before.bytesSent;
      const received = after.bytesReceived - before.bytesReceived;
      expect(sent).toBeLessThan(data.length / 3);
      expect(received).toBeLessThan(data.length / 3);
      expect(after.keyExchanges).toBeGreaterThanOrEqual(4);
      expect(server.algorithms?.compressionServerToClient).toBe(method);
      await client.close();
    },
    120_000,
  );

  it('moves incompressible data intact under compression, a little larger on the wire', async () => {
    const { client, channel } = await echoPair(config(['zlib@openssh.com', 'none']));
    const data = new Uint8Array(4 * MiB);
    for (let at = 0; at < data.length; at += 65536) crypto.getRandomValues(data.subarray(at, at + 65536));
    const before = client.metrics.bytesSent;
    const result = await roundTrip(channel, data);
    expect(result.sha256).toBe(sha256(data));
    expect(client.metrics.bytesSent - before).toBeGreaterThan(data.length);
    expect(client.metrics.bytesSent - before).toBeLessThan(data.length * 1.01);
    await client.close();
  }, 60_000);

  it('ends the session with DISCONNECT COMPRESSION_ERROR when a compressed payload is corrupt', async () => {
    const [a, b] = duplexPair();
    const wire = tap(a);
    const { client, server } = await sessionPair({
      clientConfig: config(['zlib@openssh.com', 'none'], true),
      serverConfig: config(['none', 'zlib@openssh.com'], true),
      link: [wire.duplex, b],
    });
    wire.state.corruptNextWrite = true;
    void client.request({ requestType: 'ping', wantReply: false }).catch(() => {});
    const serverError = await server.closed.catch((e) => e);
    expect(serverError).toMatchObject({ reason: DisconnectReason.compressionError });
    expect(serverError.message).toMatch(/^Corrupt compressed data: /);
    const clientError = await client.closed.catch((e) => e);
    expect(clientError).toBeInstanceOf(DisconnectError);
    expect(clientError).toMatchObject({ reason: DisconnectReason.compressionError });
  });
});
