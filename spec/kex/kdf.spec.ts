import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KexHashName } from '../../lib/kex/backend.js';
import { deriveKey, deriveKeys, type KeyLetter } from '../../lib/kex/kdf.js';

interface KdfCase {
  sharedSecret: string;
  exchangeHash: string;
  sessionId: string;
  A: string;
  B: string;
  C: string;
  D: string;
  E: string;
  F: string;
}
interface KdfVectors {
  source: string;
  hash: string;
  cases: KdfCase[];
}

const load = (name: string): KdfVectors =>
  JSON.parse(readFileSync(new URL(`../fixtures/vectors/${name}`, import.meta.url), 'utf8')) as KdfVectors;
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const letters: KeyLetter[] = ['A', 'B', 'C', 'D', 'E', 'F'];

// The CAVP vectors include SHA-1, which no SSH kex method of ours uses; node:crypto hashes it anyway.
function secretsOf(hash: string, c: KdfCase) {
  return { hash: hash as KexHashName, sharedSecret: hex(c.sharedSecret), exchangeHash: hex(c.exchangeHash), sessionId: hex(c.sessionId) };
}

describe('deriveKey', () => {
  const table = ['ssh-kdf-sha256.json', 'ssh-kdf-sha1.json'].flatMap((file) => {
    const vectors = load(file);
    return vectors.cases.flatMap((c, index) =>
      letters.map((letter) => ({ file, hash: vectors.hash, index, letter, c })),
    );
  });

  it.each(table)('matches the CAVP $hash vector $index for key $letter', ({ hash, letter, c }) => {
    const expected = c[letter];
    const key = deriveKey(letter, expected.length / 2, secretsOf(hash, c));
    expect(toHex(key)).toBe(expected);
  });

  it('extends a key past one hash output with K1 || K2 || K3 computed over all earlier blocks', () => {
    const c = load('ssh-kdf-sha256.json').cases[0]!;
    const secrets = secretsOf('sha256', c);
    const h = (...parts: Uint8Array[]) => {
      const hash = createHash('sha256');
      for (const p of parts) hash.update(p);
      return new Uint8Array(hash.digest());
    };
    const k1 = h(secrets.sharedSecret, secrets.exchangeHash, Buffer.from('C'), secrets.sessionId);
    const k2 = h(secrets.sharedSecret, secrets.exchangeHash, k1);
    const k3 = h(secrets.sharedSecret, secrets.exchangeHash, k1, k2);
    const expected = Buffer.concat([k1, k2, k3]).subarray(0, 80);
    expect(toHex(deriveKey('C', 80, secrets))).toBe(expected.toString('hex'));
  });

  it('returns an empty key for length 0', () => {
    const c = load('ssh-kdf-sha256.json').cases[0]!;
    expect(deriveKey('E', 0, secretsOf('sha256', c))).toHaveLength(0);
  });
});

describe('deriveKeys', () => {
  it('assigns letters A, C, E to client-to-server and B, D, F to server-to-client', () => {
    const c = load('ssh-kdf-sha256.json').cases[1]!;
    const keys = deriveKeys({
      ...secretsOf('sha256', c),
      lengths: {
        clientToServer: { iv: 8, encryptionKey: 24, integrityKey: 32 },
        serverToClient: { iv: 8, encryptionKey: 24, integrityKey: 32 },
      },
    });
    expect(toHex(keys.clientToServer.iv)).toBe(c.A);
    expect(toHex(keys.serverToClient.iv)).toBe(c.B);
    expect(toHex(keys.clientToServer.encryptionKey)).toBe(c.C);
    expect(toHex(keys.serverToClient.encryptionKey)).toBe(c.D);
    expect(toHex(keys.clientToServer.integrityKey)).toBe(c.E);
    expect(toHex(keys.serverToClient.integrityKey)).toBe(c.F);
  });

  it('honours different lengths per direction', () => {
    const c = load('ssh-kdf-sha256.json').cases[2]!;
    const keys = deriveKeys({
      ...secretsOf('sha256', c),
      lengths: {
        clientToServer: { iv: 12, encryptionKey: 64, integrityKey: 0 },
        serverToClient: { iv: 16, encryptionKey: 32, integrityKey: 64 },
      },
    });
    expect(keys.clientToServer.iv).toHaveLength(12);
    expect(keys.clientToServer.encryptionKey).toHaveLength(64);
    expect(keys.clientToServer.integrityKey).toHaveLength(0);
    expect(keys.serverToClient.iv).toHaveLength(16);
    expect(keys.serverToClient.integrityKey).toHaveLength(64);
    expect(toHex(keys.serverToClient.integrityKey).slice(0, 64)).toBe(c.F);
  });
});
