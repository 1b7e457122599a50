/**
 * Every cipher × MAC × kex × host key combination, our client against our server over an
 * in-memory pipe: the key exchange completes, both sides agree on the session id, and a
 * message crosses in each direction. One `it` per kex method keeps the report readable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Transport } from '../../lib/transport/transport.js';
import { SessionConfig } from '../../lib/config.js';
import { CIPHER_NAMES, MAC_NAMES, cipherAlgorithms } from '../../lib/cipher/registry.js';
import { KEX_NAMES } from '../../lib/kex/registry.js';
import { generateKeyPair, type KeyPair, type PublicKeyAlgorithmName } from '../../lib/keys/key-pair.js';
import { duplexPair } from '../helpers/pipes.js';

const hostKeyAlgorithms: PublicKeyAlgorithmName[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'];
const ciphers = CIPHER_NAMES.filter((c) => c !== 'none');
const macs = MAC_NAMES.filter((m) => m !== 'none');

const keys = new Map<string, KeyPair>();
beforeAll(async () => {
  for (const alg of hostKeyAlgorithms) {
    const type = alg.startsWith('rsa') ? 'rsa' : alg;
    if (!keys.has(type)) keys.set(type, await generateKeyPair(alg, { keySize: 2048 }));
  }
});

async function roundTrip(kex: string, hostAlg: PublicKeyAlgorithmName, cipher: string, mac: string): Promise<void> {
  const config = () =>
    Object.assign(SessionConfig.default(), {
      keyExchangeAlgorithms: [kex],
      publicKeyAlgorithms: [hostAlg],
      encryptionAlgorithms: [cipher],
      hmacAlgorithms: [mac],
    });
  const [a, b] = duplexPair();
  const client = new Transport({ isServer: false, config: config() });
  const server = new Transport({ isServer: true, config: config(), hostKeys: [keys.get(hostAlg.startsWith('rsa') ? 'rsa' : hostAlg)!] });
  await Promise.all([client.connect(a), server.connect(b)]);
  const label = `${kex} ${hostAlg} ${cipher} ${mac}`;
  expect(Buffer.from(client.sessionId!).equals(server.sessionId!), label).toBe(true);
  expect(client.algorithms, label).toMatchObject({ kex, serverHostKey: hostAlg, encryptionServerToClient: cipher });
  const got: number[] = [];
  server.onMessage = (p) => (got.push(p[1]!), true);
  client.onMessage = (p) => (got.push(p[1]!), true);
  await client.send(new Uint8Array([192, 1, ...new Uint8Array(300)]));
  await server.send(new Uint8Array([192, 2, ...new Uint8Array(300)]));
  for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 1));
  expect(got.sort(), label).toEqual([1, 2]);
  await client.close();
}

describe('Transport algorithm matrix', () => {
  it.each(KEX_NAMES)('completes every host key × cipher × MAC combination with kex %s', async (kex) => {
    let combinations = 0;
    for (const hostAlg of hostKeyAlgorithms) {
      for (const cipher of ciphers) {
        // An AEAD cipher ignores the MAC: one MAC is enough to cover it.
        for (const mac of cipherAlgorithms.get(cipher)!.aead ? macs.slice(0, 1) : macs) {
          await roundTrip(kex, hostAlg, cipher, mac);
          combinations++;
        }
      }
    }
    expect(combinations).toBe(hostKeyAlgorithms.length * (3 + (ciphers.length - 3) * macs.length));
  }, 120_000);
});
