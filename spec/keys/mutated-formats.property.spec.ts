import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exportPrivateKey, exportPublicKey, generateKeyPair, importKey, KeyError, KeyFormat, type KeyPair } from '../../lib/keys/index.js';
import { readPemBlocks, writePem } from '../../lib/keys/formats/pem.js';
import { mutatedBytes, propertyParameters } from '../helpers/property.js';

/** One key file of every format and encrypted variant; `runs` keeps the slow KDFs to a few cases. */
interface Sample {
  name: string;
  text: string;
  passphrase?: string;
  runs: number;
}

const passphrase = 'mutated formats';
const samples: Sample[] = [];
/** No single import may take longer than this: a mutated file must fail fast, not hang. */
const deadlineMs = 20_000;

beforeAll(async () => {
  const keys: Record<string, KeyPair> = {
    ed: await generateKeyPair('ssh-ed25519', { comment: 'ed' }),
    ec: await generateKeyPair('ecdsa-sha2-nistp384', { comment: 'ec' }),
    rsa: await generateKeyPair('rsa-sha2-256', { keySize: 1024, comment: 'rsa' }),
  };
  const add = async (name: string, text: Promise<string>, runs: number, withPassphrase?: string): Promise<void> => {
    samples.push({ name, text: await text, runs, ...(withPassphrase ? { passphrase: withPassphrase } : {}) });
  };
  for (const [type, key] of Object.entries(keys)) {
    await add(`openssh ${type}`, exportPrivateKey(key, KeyFormat.OpenSsh), 60);
    await add(`pkcs8 ${type}`, exportPrivateKey(key, KeyFormat.Pkcs8), 60);
    await add(`jwk ${type}`, exportPrivateKey(key, KeyFormat.Jwk), 60);
    await add(`spki ${type}`, exportPublicKey(key, KeyFormat.Pkcs8), 40);
    await add(`ssh line ${type}`, exportPublicKey(key, KeyFormat.Ssh), 40);
    await add(`ssh2 public ${type}`, exportPublicKey(key, KeyFormat.Ssh2), 40);
  }
  await add('pkcs1 rsa', exportPrivateKey(keys.rsa!, KeyFormat.Pkcs1), 60);
  await add('pkcs1 public rsa', exportPublicKey(keys.rsa!, KeyFormat.Pkcs1), 40);
  await add('sec1 ec', exportPrivateKey(keys.ec!, KeyFormat.Sec1), 60);
  await add('ssh2 private rsa', exportPrivateKey(keys.rsa!, KeyFormat.Ssh2), 60);
  await add('openssh bcrypt ed', exportPrivateKey(keys.ed!, KeyFormat.OpenSsh, passphrase), 6, passphrase);
  await add('pkcs8 pbes2 ec', exportPrivateKey(keys.ec!, KeyFormat.Pkcs8, passphrase), 12, passphrase);
  await add('pkcs1 dek-info rsa', exportPrivateKey(keys.rsa!, KeyFormat.Pkcs1, passphrase), 40, passphrase);
  await add('sec1 dek-info ec', exportPrivateKey(keys.ec!, KeyFormat.Sec1, passphrase), 40, passphrase);
  await add('ssh2 3des rsa', exportPrivateKey(keys.rsa!, KeyFormat.Ssh2, passphrase), 20, passphrase);
}, 60_000);

/** Imports `data` within the deadline: a KeyPair or a KeyError pass, anything else fails. */
async function importOrKeyError(data: string | Uint8Array, withPassphrase: string | undefined): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`importKey took longer than ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([importKey(data, withPassphrase), deadline]);
  } catch (error) {
    if (!(error instanceof KeyError)) throw new Error(`importKey threw ${String(error)} instead of a KeyError`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** The binary body of a sample and how to armor a mutated body the same way. */
function bodyOf(sample: Sample): { body: Uint8Array; rewrap(body: Uint8Array): string | Uint8Array } | undefined {
  if (sample.text.startsWith('-----BEGIN')) {
    const [block] = readPemBlocks(sample.text);
    return { body: block!.body, rewrap: (body) => writePem(block!.label, body, { headers: block!.headers }) };
  }
  const line = /^(\S+) (\S+)(.*)$/s.exec(sample.text);
  if (line && !sample.text.startsWith('{') && !sample.text.startsWith('----')) {
    return { body: Buffer.from(line[2]!, 'base64'), rewrap: (body) => `${line[1]} ${Buffer.from(body).toString('base64')}${line[3]}` };
  }
  return undefined;
}

const textEdit = fc.tuple(fc.nat(), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 127 }));

function editText(text: string, [at, length, how, code]: [number, number, number, number]): string {
  const i = at % text.length;
  if (how === 0) return `${text.slice(0, i)}${String.fromCharCode(code)}${text.slice(i + 1)}`;
  if (how === 1) return `${text.slice(0, i)}${text.slice(i + length)}`;
  return `${text.slice(0, i)}${text.slice(i, i + length).repeat(2)}${text.slice(i + length)}`;
}

describe('importKey on mutated files of every format', () => {
  it('reads every unmutated sample', async () => {
    for (const sample of samples) await expect(importKey(sample.text, sample.passphrase), sample.name).resolves.toBeDefined();
  });

  it('gives a KeyPair or a KeyError, never another exception and never a hang, for mutated bodies, text and raw DER', async () => {
    for (const sample of samples) {
      const parts = bodyOf(sample);
      if (parts) {
        await fc.assert(
          fc.asyncProperty(mutatedBytes(fc.constant(parts.body)), async (body) => {
            await importOrKeyError(parts.rewrap(body), sample.passphrase);
            // The raw DER or openssh-key-v1 body, as importKey reads binary input too.
            if (sample.text.startsWith('-----BEGIN')) await importOrKeyError(body, sample.passphrase);
          }),
          propertyParameters(sample.runs),
        );
      }
      await fc.assert(
        fc.asyncProperty(textEdit, async (edit) => {
          await importOrKeyError(editText(sample.text, edit), sample.passphrase);
        }),
        propertyParameters(Math.ceil(sample.runs / 2)),
      );
    }
  }, 300_000);
});
