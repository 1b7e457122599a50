import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exportPrivateKey, exportPublicKey, generateKeyPair, importKey, KeyError, KeyFormat, type KeyPair } from '../../lib/keys/index.js';
import { mutatedBytes, propertyParameters } from '../helpers/property.js';

interface Sample {
  name: string;
  key: KeyPair;
  text: string;
  passphrase?: string;
}

const samples: Sample[] = [];
const passphrase = 'property';

beforeAll(async () => {
  const ed = await generateKeyPair('ssh-ed25519', { comment: 'property' });
  const ec = await generateKeyPair('ecdsa-sha2-nistp256', { comment: 'property' });
  const rsa = await generateKeyPair('rsa-sha2-512', { keySize: 2048, comment: 'property' });
  const add = async (name: string, key: KeyPair, text: Promise<string>, withPassphrase?: string): Promise<void> => {
    samples.push({ name, key, text: await text, ...(withPassphrase ? { passphrase: withPassphrase } : {}) });
  };
  await add('openssh ed25519', ed, exportPrivateKey(ed, KeyFormat.OpenSsh));
  await add('openssh ecdsa', ec, exportPrivateKey(ec, KeyFormat.OpenSsh));
  await add('openssh ed25519 encrypted', ed, exportPrivateKey(ed, KeyFormat.OpenSsh, passphrase), passphrase);
  await add('pkcs8 ed25519', ed, exportPrivateKey(ed, KeyFormat.Pkcs8));
  await add('pkcs1 rsa', rsa, exportPrivateKey(rsa, KeyFormat.Pkcs1));
  await add('sec1 ecdsa', ec, exportPrivateKey(ec, KeyFormat.Sec1));
  await add('spki ecdsa', ec, exportPublicKey(ec, KeyFormat.Pkcs8));
  await add('ssh line ed25519', ed, exportPublicKey(ed, KeyFormat.Ssh));
  await add('ssh2 public rsa', rsa, exportPublicKey(rsa, KeyFormat.Ssh2));
  await add('jwk ecdsa', ec, exportPrivateKey(ec, KeyFormat.Jwk));
}, 30_000);

/** Imports `data`: a KeyPair or a KeyError are the two acceptable outcomes; anything else fails. */
async function importOrKeyError(data: string | Uint8Array, withPassphrase: string | undefined): Promise<KeyPair | KeyError> {
  try {
    return await importKey(data, withPassphrase);
  } catch (error) {
    if (!(error instanceof KeyError)) throw new Error(`importKey threw ${String(error)} instead of a KeyError`, { cause: error });
    expect(error.message.length).toBeGreaterThan(0);
    return error;
  }
}

/** The base64 body of an armored or one-line key, and how to put a mutated body back. */
function unarmor(text: string): { body: Uint8Array; armor(body: Uint8Array): string } | undefined {
  const pem = /^(-{4,5} ?BEGIN [A-Z0-9 ]+ ?-{4,5}\n(?:[A-Za-z-]+: .*\n)*\n?)([A-Za-z0-9+/=\n]+)(-{4,5} ?END [A-Z0-9 ]+ ?-{4,5}\n?)$/.exec(text);
  if (pem) return { body: Buffer.from(pem[2]!, 'base64'), armor: (b) => `${pem[1]}${Buffer.from(b).toString('base64')}\n${pem[3]}` };
  const line = /^(\S+ )(\S+)( .*)?$/.exec(text);
  if (line) return { body: Buffer.from(line[2]!, 'base64'), armor: (b) => `${line[1]}${Buffer.from(b).toString('base64')}${line[3] ?? ''}` };
  return undefined;
}

/** Text-level mutations: a character replaced, a slice removed, a slice repeated. */
const textMutation = fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 32, max: 126 })).map(
  ([at, length, how, code]) =>
    (text: string): string => {
      const i = at % (text.length + 1);
      const n = 1 + (length % 40);
      if (how === 0) return `${text.slice(0, i)}${String.fromCharCode(code)}${text.slice(i + 1)}`;
      if (how === 1) return `${text.slice(0, i)}${text.slice(i + n)}`;
      return `${text.slice(0, i + n)}${text.slice(i, i + n)}${text.slice(i + n)}`;
    },
);

describe('importKey (properties)', () => {
  it('imports every sample to the key it was exported from', async () => {
    for (const sample of samples) expect((await importKey(sample.text, sample.passphrase)).equals(sample.key), sample.name).toBe(true);
  });

  it('gives a KeyPair or a KeyError for mutated binary bodies, never another exception', async () => {
    const plain = samples.filter((s) => !s.passphrase && unarmor(s.text));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...plain).chain((s) => fc.tuple(fc.constant(s), mutatedBytes(fc.constant(unarmor(s.text)!.body)))),
        async ([sample, body]) => {
          await importOrKeyError(unarmor(sample.text)!.armor(body), undefined);
        },
      ),
      propertyParameters(300),
    );
  }, 60_000);

  it('gives a KeyPair or a KeyError for mutated text and raw bytes, never another exception', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...samples.filter((s) => !s.passphrase)), textMutation, async (sample, mutate) => {
        await importOrKeyError(mutate(sample.text), undefined);
      }),
      propertyParameters(300),
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        await importOrKeyError(bytes, undefined);
      }),
      propertyParameters(200),
    );
  }, 60_000);

  it('gives a KeyPair or a KeyError for a mutated encrypted key (its KDF runs, so few cases)', async () => {
    const sample = samples.find((s) => s.passphrase)!;
    const parts = unarmor(sample.text)!;
    await fc.assert(
      fc.asyncProperty(mutatedBytes(fc.constant(parts.body)), fc.boolean(), async (body, right) => {
        await importOrKeyError(parts.armor(body), right ? passphrase : 'wrong');
      }),
      propertyParameters(12),
    );
  }, 120_000);
});
