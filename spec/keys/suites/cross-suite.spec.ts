import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { exportPrivateKey, exportPublicKey, generateKeyPair, importKey, KeyFormat, type KeyPair, type PublicKeyAlgorithmName } from '../../../lib/keys/index.js';
import { materialToJwk } from '../../../lib/keys/key-material.js';
import { installKeySuite, keySuite, type KeySuite } from '../../../lib/keys/suite.js';
import { nodeKeySuite } from '../../../lib/keys/suites/node.js';
import { webKeySuite } from '../../../lib/keys/suites/web.js';
import { sessionPair } from '../../helpers/pairs.js';
import { propertyParameters } from '../../helpers/property.js';

const suites = [nodeKeySuite, webKeySuite] as const;
const pairsOfSuites = suites.flatMap((a) => suites.map((b) => [a.name, b.name, a, b] as const));
const pass = 'cross suite';

/** Runs `action` with `suite` installed, then puts the node suite back. */
async function under<T>(suite: KeySuite, action: () => Promise<T>): Promise<T> {
  installKeySuite(suite);
  try {
    return await action();
  } finally {
    installKeySuite(nodeKeySuite);
  }
}

/** What an import gives: the public blob and private numbers of the key, or the KeyError message. */
async function outcome(suite: KeySuite, text: string | Uint8Array, passphrase?: string): Promise<string> {
  return under(suite, async () => {
    try {
      const key = await importKey(text, passphrase);
      return `key ${Buffer.from(key.publicKeyBlob).toString('base64')} ${key.hasPrivateKey ? await exportPrivateKey(key, KeyFormat.Jwk) : ''}`;
    } catch (error) {
      return `error ${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
  });
}

const signing: [PublicKeyAlgorithmName, number?][] = [
  ['ssh-ed25519'],
  ['ecdsa-sha2-nistp256'],
  ['ecdsa-sha2-nistp384'],
  ['ecdsa-sha2-nistp521'],
  ['rsa-sha2-512', 2048],
  ['rsa-sha2-256', 2048],
  ['ssh-rsa', 2048],
];
const keys = new Map<string, { node: KeyPair; web: KeyPair }>();

beforeAll(async () => {
  for (const [algorithm, keySize] of signing) {
    const node = await under(nodeKeySuite, () => generateKeyPair(algorithm, { keySize, comment: `${algorithm} from node` }));
    const web = await under(webKeySuite, () => generateKeyPair(algorithm, { keySize, comment: `${algorithm} from web` }));
    keys.set(algorithm, { node, web });
  }
}, 60_000);
afterEach(() => {
  installKeySuite(nodeKeySuite);
  vi.restoreAllMocks();
});

describe('key suites against each other', () => {
  it.each(signing.map(([algorithm]) => [algorithm]))('%s: generated under either suite, signs under one and verifies under the other', async (algorithm) => {
    const data = new TextEncoder().encode(`exchange hash for ${algorithm}`);
    for (const [signerName, verifierName, signer, verifier] of pairsOfSuites) {
      for (const key of Object.values(keys.get(algorithm)!)) {
        const context = `${key.comment}, signed under ${signerName}, verified under ${verifierName}`;
        const signature = await under(signer, () => key.sign(algorithm, data));
        const other = keys.get(algorithm)![key === keys.get(algorithm)!.node ? 'web' : 'node'];
        await under(verifier, async () => {
          expect(await key.verify(data, signature), context).toBe(true);
          expect(await key.verify(new TextEncoder().encode('other data'), signature), context).toBe(false);
          expect(await other.verify(data, signature), context).toBe(false);
          const flipped = signature.slice();
          flipped[flipped.length - 5]! ^= 0x10;
          expect(await key.verify(data, flipped), context).toBe(false);
          expect(await key.verify(data, signature.subarray(0, signature.length - 1)), context).toBe(false);
        });
      }
    }
  }, 60_000);

  it('makes byte-identical deterministic signatures (Ed25519, RSA PKCS#1 v1.5) under both suites', async () => {
    const data = new TextEncoder().encode('deterministic');
    for (const algorithm of ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] as const) {
      const key = keys.get(algorithm)!.web;
      const [a, b] = [await under(nodeKeySuite, () => key.sign(algorithm, data)), await under(webKeySuite, () => key.sign(algorithm, data))];
      expect(Buffer.from(a).toString('hex'), algorithm).toBe(Buffer.from(b).toString('hex'));
    }
  });

  const privateFormats = (algorithm: string): KeyFormat[] => [
    KeyFormat.OpenSsh,
    KeyFormat.Pkcs8,
    KeyFormat.Jwk,
    ...(algorithm.includes('rsa') ? [KeyFormat.Pkcs1, KeyFormat.Ssh2] : algorithm.startsWith('ecdsa') ? [KeyFormat.Sec1] : []),
  ];
  const exportCases = signing
    .filter(([algorithm]) => algorithm !== 'ssh-rsa')
    .flatMap(([algorithm]) => privateFormats(algorithm).flatMap((format) => (format === KeyFormat.Jwk ? [[algorithm, format, '']] : [[algorithm, format, ''], [algorithm, format, pass]])));

  it.each(exportCases)('%s as %s (passphrase %j): exported under one suite, imported under the other to the same key', async (algorithm, format, passphrase) => {
    const key = keys.get(algorithm)!.node;
    for (const [fromName, toName, from, to] of pairsOfSuites) {
      const text = await under(from, () => exportPrivateKey(key, format as KeyFormat, passphrase || undefined));
      const back = await under(to, () => importKey(text, passphrase || undefined));
      const context = `${format} written under ${fromName}, read under ${toName}`;
      expect(materialToJwk(back.material, true), context).toEqual(materialToJwk(key.material, true));
      if (!passphrase && format !== KeyFormat.OpenSsh) {
        // Deterministic formats: the other suite writes the very same text (OpenSSH has random check bytes).
        expect(await under(to, () => exportPrivateKey(back, format as KeyFormat)), context).toBe(text);
      }
    }
  }, 120_000);

  it.each(signing.filter(([a]) => a !== 'ssh-rsa').map(([a]) => [a]))('%s: every public format is the same text under both suites', async (algorithm) => {
    const key = keys.get(algorithm)!.web;
    const formats = [KeyFormat.Ssh, KeyFormat.Ssh2, KeyFormat.Pkcs8, KeyFormat.Jwk, ...(algorithm.includes('rsa') ? [KeyFormat.Pkcs1] : [])];
    for (const format of formats) {
      const [a, b] = [await under(nodeKeySuite, () => exportPublicKey(key, format)), await under(webKeySuite, () => exportPublicKey(key, format))];
      expect(a, format).toBe(b);
      expect((await under(webKeySuite, () => importKey(a))).equals(key), format).toBe(true);
    }
  });

  it('gives the same KeyError under both suites for wrong and missing passphrases and mismatched halves', async () => {
    const rsa = keys.get('rsa-sha2-256')!.node;
    const ec = keys.get('ecdsa-sha2-nistp384')!.node;
    const ed = keys.get('ssh-ed25519')!.node;
    const texts = [
      await exportPrivateKey(ed, KeyFormat.OpenSsh, pass),
      await exportPrivateKey(ec, KeyFormat.Pkcs8, pass),
      await exportPrivateKey(rsa, KeyFormat.Pkcs1, pass),
      await exportPrivateKey(ec, KeyFormat.Sec1, pass),
      await exportPrivateKey(rsa, KeyFormat.Ssh2, pass),
    ];
    for (const text of texts) {
      for (const passphrase of [undefined, 'wrong']) {
        const [a, b] = [await outcome(nodeKeySuite, text, passphrase), await outcome(webKeySuite, text, passphrase)];
        expect(a).toMatch(/^error KeyError: (A passphrase is required|Incorrect passphrase)/);
        expect(b).toBe(a);
      }
    }
    const edJwk = JSON.parse(await exportPrivateKey(ed, KeyFormat.Jwk));
    const otherEd = JSON.parse(await exportPublicKey(keys.get('ssh-ed25519')!.web, KeyFormat.Jwk));
    const ecJwk = JSON.parse(await exportPrivateKey(ec, KeyFormat.Jwk));
    const rsaJwk = JSON.parse(await exportPrivateKey(rsa, KeyFormat.Jwk));
    const mismatched = [
      { ...edJwk, x: otherEd.x },
      { ...ecJwk, d: JSON.parse(await exportPrivateKey(keys.get('ecdsa-sha2-nistp384')!.web, KeyFormat.Jwk)).d },
      { ...rsaJwk, d: rsaJwk.dp },
      { ...rsaJwk, p: rsaJwk.q },
    ];
    for (const jwk of mismatched) {
      const [a, b] = [await outcome(nodeKeySuite, JSON.stringify(jwk)), await outcome(webKeySuite, JSON.stringify(jwk))];
      expect(a).toMatch(/^error KeyError: /);
      expect(b).toBe(a);
    }
  }, 60_000);

  it('imports mutated key files to the same key or the same KeyError under both suites', async () => {
    const samples: { text: string; passphrase?: string }[] = [];
    for (const [algorithm] of signing.filter(([a]) => a !== 'ssh-rsa')) {
      const key = keys.get(algorithm)!.node;
      for (const format of privateFormats(algorithm)) samples.push({ text: await exportPrivateKey(key, format) });
      samples.push({ text: await exportPublicKey(key, KeyFormat.Pkcs8) }, { text: await exportPublicKey(key, KeyFormat.Ssh) });
    }
    samples.push({ text: await exportPrivateKey(keys.get('rsa-sha2-256')!.node, KeyFormat.Pkcs1, pass), passphrase: pass });
    samples.push({ text: await exportPrivateKey(keys.get('ecdsa-sha2-nistp256')!.node, KeyFormat.Sec1, pass), passphrase: pass });
    const mutation = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 32, max: 126 }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...samples), mutation, async (sample, [at, bit, code]) => {
        // Mutate inside the base64 body (past the armor line) or anywhere for one-line and JSON keys.
        const start = sample.text.indexOf('\n') > 0 && sample.text.startsWith('-') ? sample.text.indexOf('\n') + 1 : 0;
        const i = start + (at % (sample.text.length - start - 1));
        const text = bit === 0 ? `${sample.text.slice(0, i)}${String.fromCharCode(code)}${sample.text.slice(i + 1)}` : flipBase64(sample.text, i, bit);
        const a = await outcome(nodeKeySuite, text, sample.passphrase);
        expect(await outcome(webKeySuite, text, sample.passphrase)).toBe(a);
      }),
      propertyParameters(150),
    );
  }, 240_000);

  it('falls back to @noble where WebCrypto lacks Ed25519 or a curve, with signatures the node suite verifies', async () => {
    // A runtime without these algorithms (older browsers) raises NotSupportedError; @noble signs instead.
    const unsupported = (algorithm: unknown): boolean => !/RSA/.test(JSON.stringify(algorithm));
    const importKey = crypto.subtle.importKey.bind(crypto.subtle);
    const generateKey = crypto.subtle.generateKey.bind(crypto.subtle);
    vi.spyOn(crypto.subtle, 'importKey').mockImplementation(((format: never, data: never, algorithm: never, ...rest: never[]) =>
      unsupported(algorithm) ? Promise.reject(new DOMException('Unsupported', 'NotSupportedError')) : importKey(format, data, algorithm, ...(rest as [never, never]))) as never);
    vi.spyOn(crypto.subtle, 'generateKey').mockImplementation(((algorithm: never, ...rest: never[]) =>
      unsupported(algorithm) ? Promise.reject(new DOMException('Unsupported', 'NotSupportedError')) : generateKey(algorithm, ...(rest as [never, never]))) as never);
    const data = new TextEncoder().encode('noble');
    for (const algorithm of ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'] as const) {
      const generated = await under(webKeySuite, () => generateKeyPair(algorithm));
      for (const key of [generated, keys.get(algorithm)!.node]) {
        const signature = await under(webKeySuite, () => key.sign(algorithm, data));
        expect(await under(nodeKeySuite, () => key.verify(data, signature)), algorithm).toBe(true);
        const fromNode = await under(nodeKeySuite, () => key.sign(algorithm, data));
        expect(await under(webKeySuite, () => key.verify(data, fromNode)), algorithm).toBe(true);
        expect(await under(webKeySuite, () => key.verify(new TextEncoder().encode('other'), fromNode)), algorithm).toBe(false);
      }
    }
    expect(crypto.subtle.importKey).toHaveBeenCalled();
  }, 60_000);

  it('runs a session whose host key and user key sign and verify under the web suite', async () => {
    installKeySuite(webKeySuite);
    const hostKey = await generateKeyPair('ecdsa-sha2-nistp384');
    const userKey = await generateKeyPair('rsa-sha2-512', { keySize: 2048 });
    let verified = false;
    const { client, server } = await sessionPair({
      hostKeys: [hostKey],
      authenticate: false,
      onAuthenticating: (e) => {
        verified ||= !e.isQuery && e.publicKey?.equals(userKey) === true;
        return e.authenticationType === 'publickey' && e.publicKey!.equals(userKey);
      },
    });
    expect(keySuite().name).toBe('web');
    expect(await client.authenticate({ username: 'user', privateKeys: [userKey] })).toBe(true);
    expect(verified).toBe(true);
    await client.close();
    await server.close();
  }, 60_000);
});

/** Replaces the base64 character at `i` with one whose value differs in bit `bit` (0-5). */
function flipBase64(text: string, i: number, bit: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const value = alphabet.indexOf(text[i]!);
  if (value < 0) return text;
  return `${text.slice(0, i)}${alphabet[value ^ (1 << bit)]}${text.slice(i + 1)}`;
}
