import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Transport } from '../../lib/transport/transport.js';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair, type PublicKeyAlgorithmName } from '../../lib/keys/key-pair.js';
import { CIPHER_NAMES, MAC_NAMES, cipherAlgorithms } from '../../lib/cipher/registry.js';
import { KEX_NAMES } from '../../lib/kex/registry.js';
import { DisconnectError, ProtocolError } from '../../lib/errors.js';
import { duplexPair } from '../helpers/pipes.js';
import { publicKeyAlgorithms as hostKeyAlgorithms } from '../helpers/pairs.js';


const keys = new Map<string, KeyPair>();
async function hostKey(algorithm: PublicKeyAlgorithmName): Promise<KeyPair> {
  const type = algorithm.startsWith('rsa') ? 'rsa' : algorithm;
  if (!keys.has(type)) keys.set(type, await generateKeyPair(algorithm, { keySize: 2048 }));
  return keys.get(type)!;
}

function config(overrides: Partial<SessionConfig>): SessionConfig {
  return Object.assign(SessionConfig.default(), overrides);
}

/** Connects a client and a server transport over an in-memory pipe. */
async function transportPair(options: { client?: Partial<SessionConfig>; server?: Partial<SessionConfig>; hostKeys?: KeyPair[] } = {}) {
  const [a, b] = duplexPair();
  const hostKeys = options.hostKeys ?? [await hostKey('ssh-ed25519')];
  const client = new Transport({ isServer: false, config: config(options.client ?? {}) });
  const server = new Transport({ isServer: true, config: config(options.server ?? {}), hostKeys });
  await Promise.all([client.connect(a), server.connect(b)]);
  return { client, server };
}

/** Collects payloads of message type 192 (an application number) arriving at `t`. */
function collect(t: Transport): Uint8Array[] {
  const got: Uint8Array[] = [];
  t.onMessage = (p) => {
    if (p[0] !== 192) return false;
    got.push(p.slice(1));
    return true;
  };
  return got;
}

function appMessage(body: Uint8Array): Uint8Array {
  const p = new Uint8Array(body.length + 1);
  p[0] = 192;
  p.set(body, 1);
  return p;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(check()).toBe(true);
}

describe('Transport', () => {
  const aeadFree = CIPHER_NAMES.filter((c) => c !== 'none' && !cipherAlgorithms.get(c)!.aead);
  const aead = CIPHER_NAMES.filter((c) => cipherAlgorithms.get(c)!.aead);
  const macs = MAC_NAMES.filter((m) => m !== 'none');
  const combos: [string, string][] = [
    ...aead.map((c) => [c, 'hmac-sha2-256'] as [string, string]),
    ...aeadFree.flatMap((c) => macs.map((m) => [c, m] as [string, string])),
  ];

  it.each(combos)('carries messages both ways with cipher %s and MAC %s', async (cipher, mac) => {
    const { client, server } = await transportPair({
      client: { encryptionAlgorithms: [cipher], hmacAlgorithms: [mac] },
      server: { encryptionAlgorithms: [cipher], hmacAlgorithms: [mac] },
    });
    expect(client.algorithms!.encryptionClientToServer).toBe(cipher);
    if (!cipherAlgorithms.get(cipher)!.aead) expect(client.algorithms!.macServerToClient).toBe(mac);
    const atServer = collect(server);
    const atClient = collect(client);
    for (const size of [0, 1, 15, 16, 17, 1000, 40000]) {
      await client.send(appMessage(new Uint8Array(size).fill(size & 0xff)));
      await server.send(appMessage(new Uint8Array(size).fill((size + 1) & 0xff)));
    }
    await until(() => atServer.length === 7 && atClient.length === 7);
    expect(atServer.map((p) => p.length)).toEqual([0, 1, 15, 16, 17, 1000, 40000]);
    expect(atClient[6]![39999]).toBe(40001 & 0xff);
    await client.close();
    await expect(server.closed).resolves.toMatchObject({ initiatedBy: 'remote', reason: 11 });
  });

  it.each(KEX_NAMES.flatMap((kex) => hostKeyAlgorithms.map((h) => [kex, h] as [string, PublicKeyAlgorithmName])))(
    'completes kex %s with host key %s and agrees on the session id',
    async (kex, hostAlg) => {
      const key = await hostKey(hostAlg);
      const { client, server } = await transportPair({
        client: { keyExchangeAlgorithms: [kex], publicKeyAlgorithms: [hostAlg] },
        server: { keyExchangeAlgorithms: [kex], publicKeyAlgorithms: [hostAlg] },
        hostKeys: [key],
      });
      expect(client.algorithms!.kex).toBe(kex);
      expect(client.algorithms!.serverHostKey).toBe(hostAlg);
      expect(Buffer.from(client.sessionId!)).toEqual(Buffer.from(server.sessionId!));
      expect(client.hostKey!.equals(key)).toBe(true);
      expect(client.strictKex).toBe(true);
      await client.close();
    },
  );

  it('works with every algorithm none (noSecurity)', async () => {
    const ns = SessionConfig.noSecurity();
    const { client, server } = await transportPair({ client: ns, server: ns, hostKeys: [] });
    expect(client.algorithms!.kex).toBe('none');
    const got = collect(server);
    await client.send(appMessage(new Uint8Array([1, 2, 3])));
    await until(() => got.length === 1);
    await server.close();
  });

  it('re-keys on demand from either side without losing or reordering messages', async () => {
    const { client, server } = await transportPair();
    const got = collect(server);
    const sends: Promise<void>[] = [];
    const rekeys: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      sends.push(client.send(appMessage(new Uint8Array([i & 0xff, i >> 8]))));
      if (i === 100) rekeys.push(client.rekey());
      if (i === 200) {
        await rekeys[0];
        rekeys.push(server.rekey());
      }
    }
    await Promise.all([...sends, ...rekeys]);
    await until(() => got.length === 300);
    expect(got.map((p) => p[0]! | (p[1]! << 8))).toEqual([...Array(300).keys()]);
    expect(client.metrics.keyExchanges).toBeGreaterThanOrEqual(3);
    await client.close();
  });

  it('re-keys automatically after keyRotationThreshold bytes while data flows both ways', async () => {
    const threshold = 256 * 1024;
    const { client, server } = await transportPair({ client: { keyRotationThreshold: threshold }, server: { keyRotationThreshold: threshold } });
    const atServer = collect(server);
    const atClient = collect(client);
    const hashOut = createHash('sha256');
    const hashBack = createHash('sha256');
    const chunk = (i: number) => new Uint8Array(30000).fill(i & 0xff);
    const n = 100;
    await Promise.all([
      (async () => { for (let i = 0; i < n; i++) { hashOut.update(chunk(i)); await client.send(appMessage(chunk(i))); } })(),
      (async () => { for (let i = 0; i < n; i++) { hashBack.update(chunk(i + 7)); await server.send(appMessage(chunk(i + 7))); } })(),
    ]);
    await until(() => atServer.length === n && atClient.length === n);
    const h1 = createHash('sha256'); atServer.forEach((p) => h1.update(p));
    const h2 = createHash('sha256'); atClient.forEach((p) => h2.update(p));
    expect(h1.digest('hex')).toBe(hashOut.digest('hex'));
    expect(h2.digest('hex')).toBe(hashBack.digest('hex'));
    expect(client.metrics.keyExchanges).toBeGreaterThan(5);
    await client.close();
  });

  it('answers an unknown message number with UNIMPLEMENTED and keeps going', async () => {
    const { client, server } = await transportPair();
    const got = collect(server);
    await client.send(new Uint8Array([150, 1, 2]));
    await client.send(appMessage(new Uint8Array([9])));
    await until(() => got.length === 1);
    expect(server.isConnected && client.isConnected).toBe(true);
    await client.close();
  });

  it('reports a peer DISCONNECT with its reason as a rejected closed promise', async () => {
    const { client, server } = await transportPair();
    await server.close(2, 'bad things');
    const err = await client.closed.catch((e) => e);
    expect(err).toBeInstanceOf(DisconnectError);
    expect(err.reason).toBe(2);
    expect(err.message).toContain('bad things');
    await expect(client.send(appMessage(new Uint8Array(1)))).rejects.toBe(err);
  });

  it('fails with AlgorithmNegotiationError naming both lists when nothing matches', async () => {
    const [a, b] = duplexPair();
    const client = new Transport({ isServer: false, config: config({ encryptionAlgorithms: ['aes128-ctr'] }) });
    const server = new Transport({ isServer: true, config: config({ encryptionAlgorithms: ['aes256-gcm@openssh.com'] }), hostKeys: [await hostKey('ssh-ed25519')] });
    const results = await Promise.allSettled([client.connect(a), server.connect(b)]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.message).toMatch(/aes128-ctr/);
    }
    const serverErr = (results[1] as PromiseRejectedResult).reason;
    expect(serverErr).toBeInstanceOf(ProtocolError);
    expect(serverErr.message).toMatch(/aes256-gcm@openssh.com/);
  });
});
