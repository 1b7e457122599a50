/**
 * The transport against hostile or broken links: a scripted raw peer sending bad input, links
 * that re-chunk bytes at random, links that die after N chunks, and noise between messages.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Transport } from '../../lib/transport/transport.js';
import { PacketWriter } from '../../lib/transport/packet-writer.js';
import { PacketReader } from '../../lib/transport/packet-reader.js';
import { createPacketProtection } from '../../lib/cipher/registry.js';
import { encode } from '../../lib/codec/schema.js';
import { SshWriter } from '../../lib/codec/wire.js';
import { KexInit, Ignore, Debug } from '../../lib/codec/messages/transport.js';
import { SessionConfig } from '../../lib/config.js';
import { DisconnectError, ProtocolError, SshError } from '../../lib/errors.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { duplexPair, type ByteDuplex } from '../helpers/pipes.js';
import { faultyDuplex } from '../helpers/faults.js';
import { createDeterministicRandom } from '../helpers/random.js';

let hostKey: KeyPair;
const getHostKey = async () => (hostKey ??= await generateKeyPair('ssh-ed25519'));
const empty = { iv: new Uint8Array(0), encryptionKey: new Uint8Array(0), integrityKey: new Uint8Array(0) };
const enc = (s: string) => new TextEncoder().encode(s);

/** A peer speaking raw bytes: identification plus unencrypted packets of our choosing. */
function rawPeer(end: ByteDuplex) {
  const writer = end.writable.getWriter();
  const packets = new PacketWriter({ sealing: createPacketProtection({ cipher: 'none', mac: 'none', keys: empty, direction: 'sealing' }), randomBytes });
  const inbound = new PacketReader({ opening: createPacketProtection({ cipher: 'none', mac: 'none', keys: empty, direction: 'opening' }), maxPacketLength: 1 << 20 });
  const received: Uint8Array[] = [];
  const reading = (async () => {
    const reader = end.readable.getReader();
    let sawVersion = false;
    let text = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) return;
      let chunk = value;
      if (!sawVersion) {
        text += Buffer.from(chunk).toString('latin1');
        const at = text.indexOf('\n');
        if (at < 0) continue;
        sawVersion = true;
        chunk = Buffer.from(text.slice(at + 1), 'latin1');
      }
      inbound.push(chunk);
      let p;
      try {
        while ((p = inbound.next()) !== undefined) received.push(p.slice());
      } catch {
        return;
      }
    }
  })();
  return {
    received,
    reading,
    raw: (bytes: Uint8Array) => writer.write(bytes).catch(() => {}),
    packet: (payload: Uint8Array) => writer.write(packets.write(payload)).catch(() => {}),
    close: () => writer.close().catch(() => {}),
  };
}

function kexInit(options: { kex?: string[]; firstKexPacketFollows?: boolean } = {}): Uint8Array {
  return encode(KexInit, {
    cookie: new Uint8Array(16),
    kexAlgorithms: options.kex ?? ['curve25519-sha256', 'kex-strict-c-v00@openssh.com'],
    serverHostKeyAlgorithms: ['ssh-ed25519'],
    encryptionAlgorithmsClientToServer: ['aes256-gcm@openssh.com'],
    encryptionAlgorithmsServerToClient: ['aes256-gcm@openssh.com'],
    macAlgorithmsClientToServer: ['hmac-sha2-256'],
    macAlgorithmsServerToClient: ['hmac-sha2-256'],
    compressionAlgorithmsClientToServer: ['none'],
    compressionAlgorithmsServerToClient: ['none'],
    languagesClientToServer: [],
    languagesServerToClient: [],
    firstKexPacketFollows: options.firstKexPacketFollows ?? false,
    reserved: 0,
  });
}

async function serverAgainst(script: (peer: ReturnType<typeof rawPeer>) => Promise<void>) {
  const [a, b] = duplexPair();
  const server = new Transport({ isServer: true, config: SessionConfig.default(), hostKeys: [await getHostKey()] });
  const connecting = server.connect(b);
  connecting.catch(() => {});
  const peer = rawPeer(a);
  await peer.raw(enc('SSH-2.0-scripted\r\n'));
  await script(peer);
  const error = await connecting.then(() => server.closed).catch((e) => e);
  await peer.reading;
  return { error, peer };
}

const disconnectReasonSent = (peer: ReturnType<typeof rawPeer>) => peer.received.find((p) => p[0] === 1)?.[4];

describe('Transport with bad input from the peer', () => {
  it('rejects garbage instead of an identification line', async () => {
    const [a, b] = duplexPair();
    const server = new Transport({ isServer: true, config: SessionConfig.default(), hostKeys: [await getHostKey()] });
    const connecting = server.connect(b);
    const w = a.writable.getWriter();
    await w.write(enc('GET / HTTP/1.1\r\n\r\n'));
    const err = await connecting.catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toMatch(/Expected an SSH identification line, got "GET \/ HTTP\/1.1"/);
    await expect(server.closed).rejects.toBe(err);
  });

  it('rejects a NEWKEYS that no key exchange prepared', async () => {
    const { error, peer } = await serverAgainst(async (p) => {
      await p.packet(new Uint8Array([21]));
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/NEWKEYS/);
    expect(disconnectReasonSent(peer)).toBe(2);
  });

  it('rejects an oversized packet length with a DISCONNECT', async () => {
    const { error, peer } = await serverAgainst(async (p) => {
      await p.raw(new Uint8Array([0x7f, 0xff, 0xff, 0xfc, 4, 0, 0, 0, 0]));
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/packet_length 2147483644/);
    expect(disconnectReasonSent(peer)).toBe(2);
  });

  it('reports a truncated packet when the link ends inside it', async () => {
    const { error } = await serverAgainst(async (p) => {
      await p.raw(new Uint8Array([0, 0, 0, 60, 4, 20, 1, 2]));
      await p.close();
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/Connection ended inside a packet/);
  });

  it('rejects an IGNORE before NEWKEYS in a strict initial key exchange', async () => {
    const { error, peer } = await serverAgainst(async (p) => {
      await p.packet(kexInit());
      await p.packet(encode(Ignore, { data: new Uint8Array(3) }));
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/Unexpected message 2 during strict initial key exchange/);
    expect(disconnectReasonSent(peer)).toBe(2);
  });

  it('ignores a wrongly guessed first kex packet and answers the real one (RFC 4253 §7)', async () => {
    const { ecdhSha2Nistp256 } = await import('../../lib/kex/ecdh-nist.js');
    // The negotiated method is the client's first that the server supports: ecdh-sha2-nistp256.
    const ephemeral = ecdhSha2Nistp256.client(randomBytes);
    let peerRef: ReturnType<typeof rawPeer> | undefined;
    const { peer } = await serverAgainst(async (p) => {
      peerRef = p;
      // The guess is wrong because the two sides' first kex methods differ; its packet must be ignored.
      await p.packet(kexInit({ kex: ['ecdh-sha2-nistp256', 'curve25519-sha256'], firstKexPacketFollows: true }));
      await p.packet(new Uint8Array([30, 0, 0, 0, 3, 9, 9, 9]));
      const w = new SshWriter();
      w.byte(30).string(ephemeral.publicValue);
      await p.packet(w.toBytes());
      for (let i = 0; i < 200 && !p.received.some((m) => m[0] === 31); i++) await new Promise((r) => setTimeout(r, 2));
      await p.close();
    });
    expect(peerRef).toBeDefined();
    const reply = peer.received.find((m) => m[0] === 31);
    expect(reply, 'KEX_ECDH_REPLY').toBeDefined();
  });

  it('rejects a strict KEXINIT that is not the first packet', async () => {
    const { error } = await serverAgainst(async (p) => {
      await p.packet(encode(Ignore, { data: new Uint8Array(3) }));
      await p.packet(kexInit());
    });
    expect(error.message).toMatch(/KEXINIT to be the first packet/);
  });

  it('rejects a connection-layer message before the first key exchange', async () => {
    const { error } = await serverAgainst(async (p) => {
      await p.packet(new Uint8Array([94, 0, 0, 0, 0, 0, 0, 0, 0]));
    });
    expect(error.message).toMatch(/Unexpected message 94 before the first key exchange/);
  });

  it('rejects a malformed KEXINIT naming the field', async () => {
    const { error } = await serverAgainst(async (p) => {
      await p.packet(kexInit().subarray(0, 30));
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/KexInit\.kexAlgorithms: unexpected end of payload at offset 21/);
  });

  it('detects a flipped bit in an encrypted packet as a MAC error', async () => {
    const [a, b] = duplexPair();
    let flip = false;
    const tamper = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        if (flip && chunk.length > 20) {
          chunk = chunk.slice();
          chunk[chunk.length - 5]! ^= 1;
          flip = false;
        }
        c.enqueue(chunk);
      },
    });
    const client = new Transport({ isServer: false, config: SessionConfig.default() });
    const server = new Transport({ isServer: true, config: SessionConfig.default(), hostKeys: [await getHostKey()] });
    void tamper.readable.pipeTo(a.writable).catch(() => {});
    await Promise.all([client.connect({ readable: a.readable, writable: tamper.writable }), server.connect(b)]);
    flip = true;
    await client.send(new Uint8Array([192, ...new Uint8Array(100)])).catch(() => {});
    const err = await server.closed.catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.reason).toBe(5);
    const clientErr = await client.closed.catch((e) => e);
    expect(clientErr).toBeInstanceOf(DisconnectError);
    expect(clientErr.reason).toBe(5);
  });
});

/** Re-chunks a byte stream: writes within one tick are coalesced, then cut at seeded random sizes. */
function rechunk(end: ByteDuplex, seed: string): ByteDuplex {
  const random = createDeterministicRandom(seed);
  let pending: Uint8Array = new Uint8Array(0);
  let scheduled = false;
  const split = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      pending = Buffer.concat([pending, chunk]);
      if (scheduled) return;
      scheduled = true;
      setTimeout(() => {
        scheduled = false;
        while (pending.length > 0) {
          const size = 1 + (new DataView(random.randomBytes(2).buffer).getUint16(0) % 3000);
          try {
            c.enqueue(pending.slice(0, size));
          } catch {
            return; // the session ended and cancelled the link
          }
          pending = pending.subarray(size);
        }
      }, 0);
    },
  });
  void end.readable.pipeTo(split.writable).catch(() => {});
  return { readable: split.readable, writable: end.writable };
}

describe('Transport key exchange timeout', () => {
  it('ends a connect whose peer never starts the key exchange', async () => {
    const [a, b] = duplexPair();
    const config = Object.assign(SessionConfig.default(), { keyExchangeTimeout: 100 });
    const server = new Transport({ isServer: true, config, hostKeys: [await getHostKey()] });
    const connecting = server.connect(b);
    const w = a.writable.getWriter();
    await w.write(enc('SSH-2.0-silent\r\n'));
    const err = await connecting.catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.reason).toBe(3);
    expect(err.message).toBe('Key exchange did not complete within 100 ms');
  });

  it('ends the session when a re-key is never answered', async () => {
    const [a, b] = duplexPair();
    let deliver = true;
    const gate = new TransformStream<Uint8Array, Uint8Array>({ transform: (c, ctl) => (deliver ? ctl.enqueue(c) : undefined) });
    void a.readable.pipeTo(gate.writable).catch(() => {});
    const config = () => Object.assign(SessionConfig.default(), { keyExchangeTimeout: 100 });
    const client = new Transport({ isServer: false, config: config() });
    const server = new Transport({ isServer: true, config: config(), hostKeys: [await getHostKey()] });
    await Promise.all([client.connect({ readable: gate.readable, writable: a.writable }), server.connect(b)]);
    deliver = false;
    const err = await client.rekey().catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.message).toMatch(/Key exchange did not complete within 100 ms/);
    await expect(client.closed).rejects.toBe(err);
  });
});

describe('Transport over difficult links', () => {
  it.each(['one', 'two', 'three'])('works when the link re-chunks bytes at random (seed %s)', async (seed) => {
    const [a, b] = duplexPair();
    const client = new Transport({ isServer: false, config: SessionConfig.default() });
    const server = new Transport({ isServer: true, config: SessionConfig.default(), hostKeys: [await getHostKey()] });
    await Promise.all([client.connect(rechunk(a, `${seed}a`)), server.connect(rechunk(b, `${seed}b`))]);
    const got: number[] = [];
    server.onMessage = (p) => (got.push(p.length), true);
    for (let i = 1; i <= 50; i++) await client.send(new Uint8Array(i * 97).fill(192));
    await client.rekey();
    for (let i = 1; i <= 50; i++) await client.send(new Uint8Array(i * 89).fill(192));
    for (let i = 0; i < 500 && got.length < 100; i++) await new Promise((r) => setTimeout(r, 2));
    expect(got).toEqual([...Array(50).keys()].map((i) => (i + 1) * 97).concat([...Array(50).keys()].map((i) => (i + 1) * 89)));
    await client.close();
  });

  it('carries IGNORE and DEBUG noise before every message', async () => {
    const [a, b] = duplexPair();
    const client = new Transport({ isServer: false, config: SessionConfig.default() });
    const server = new Transport({ isServer: true, config: SessionConfig.default(), hostKeys: [await getHostKey()] });
    await Promise.all([client.connect(a), server.connect(b)]);
    const got: number[] = [];
    server.onMessage = (p) => (got.push(p[1]!), true);
    for (let i = 0; i < 100; i++) {
      void client.send(encode(Ignore, { data: new Uint8Array(i) }));
      void client.send(encode(Debug, { alwaysDisplay: false, message: 'noise', languageTag: '' }));
      if (i === 50) void client.rekey();
      await client.send(new Uint8Array([192, i]));
    }
    for (let i = 0; i < 500 && got.length < 100; i++) await new Promise((r) => setTimeout(r, 2));
    expect(got).toEqual([...Array(100).keys()]);
    await client.close();
  });

  it.each([1, 2, 3, 4, 5, 6, 8, 12, 20])('ends both sides with a clear error when the link dies after %i chunks', async (n) => {
    const [a, b] = duplexPair();
    const client = new Transport({ isServer: false, config: SessionConfig.default() });
    const server = new Transport({ isServer: true, config: SessionConfig.default(), hostKeys: [await getHostKey()] });
    const link = faultyDuplex(a, { afterChunks: n });
    const results = await Promise.allSettled([client.connect(link), server.connect(b)]);
    if (results.every((r) => r.status === 'fulfilled')) {
      for (let i = 0; i < 20; i++) await client.send(new Uint8Array([192, i])).catch(() => {});
    }
    const errors = await Promise.all([client.closed.catch((e) => e), server.closed.catch((e) => e)]);
    for (const e of errors) expect(e).toBeInstanceOf(SshError);
    expect(link.tripped).toBe(true);
  });
});
