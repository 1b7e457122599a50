import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPrivateKey, exportPublicKey, generateKeyPair, importKey, KeyFormat, KeyPair, type PublicKeyAlgorithmName } from '../../../lib/keys/index.js';
import { materialToJwk } from '../../../lib/keys/key-material.js';
import { openHarnessPage, skipWithoutChromium, type HarnessPage } from '../../browser/chromium.js';
const skip = skipWithoutChromium();
const pass = 'chromium pass';
const types: [PublicKeyAlgorithmName, number?][] = [
  ['ssh-ed25519'],
  ['ecdsa-sha2-nistp256'],
  ['ecdsa-sha2-nistp384'],
  ['ecdsa-sha2-nistp521'],
  ['rsa-sha2-512', 2048],
];
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
let page: HarnessPage;

/** Calls `window.keySuitePage[name](...args)` in the page. */
async function call<T>(name: string, ...args: unknown[]): Promise<T> {
  return page.page.evaluate(([n, a]) => (globalThis as unknown as Record<string, Record<string, (...x: unknown[]) => unknown>>).keySuitePage![n as string]!(...(a as unknown[])), [name, args] as const) as Promise<T>;
}

/** What the page's `import` gives, computed under the node suite. */
async function nodeOutcome(text: string, passphrase?: string): Promise<string> {
  try {
    const key = await importKey(text, passphrase);
    return `key ${await exportPublicKey(key, KeyFormat.Ssh)} ${key.hasPrivateKey ? await exportPrivateKey(key, KeyFormat.Jwk) : ''}`;
  } catch (error) {
    return `error ${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
}

describe.skipIf(skip)('the web key suite in Chromium against the node suite', () => {
  const keys: KeyPair[] = [];
  beforeAll(async () => {
    page = await openHarnessPage('spec/keys/suites/browser-page.ts', 'keySuitePage');
    for (const [type, keySize] of types) keys.push(await generateKeyPair(type, { keySize, comment: `node ${type}` }));
  }, 120_000);
  afterAll(async () => page?.close());

  it('runs the web suite in the page', async () => {
    expect(await call<string>('suiteName')).toBe('web');
  });

  it('verifies in Node what the page signs, and in the page what Node signs, for every key type and RSA hash', async () => {
    const data = new TextEncoder().encode('signed across runtimes');
    const jobs = keys.flatMap((key) => key.algorithms.map((algorithm) => ({ key, algorithm })));
    const fromPage = await call<string[]>('sign', jobs.map(({ key, algorithm }) => ({ jwk: JSON.stringify(materialToJwk(key.material, true)), algorithm })), b64(data));
    const fromNode: string[] = [];
    for (const [i, { key, algorithm }] of jobs.entries()) {
      const signature = Buffer.from(fromPage[i]!, 'base64');
      expect(await key.verify(data, signature, [algorithm]), algorithm).toBe(true);
      const ours = await key.sign(algorithm, data);
      // Ed25519 and RSA PKCS#1 v1.5 signatures are deterministic: the same bytes in both runtimes.
      if (!algorithm.startsWith('ecdsa')) expect(b64(ours), algorithm).toBe(fromPage[i]);
      fromNode.push(b64(ours));
    }
    const checked = await call<{ valid: boolean; tampered: boolean }[]>('verify', jobs.map(({ key }, i) => ({ blob: b64(key.publicKeyBlob), signature: fromNode[i] })), b64(data));
    expect(checked).toEqual(jobs.map(() => ({ valid: true, tampered: false })));
  }, 60_000);

  it('writes keys generated in the page in every private format, encrypted too, that Node reads to the same key', async () => {
    const generated = await call<{ publicLine: string; files: { format: string; passphrase?: string; text: string }[] }[]>('generate', types, pass);
    for (const { publicLine, files } of generated) {
      for (const file of files) {
        const key = await importKey(file.text, file.passphrase);
        const typeAndBlob = (line: string): string => line.split(' ').slice(0, 2).join(' ');
        expect(typeAndBlob(await exportPublicKey(key, KeyFormat.Ssh)), `${file.format} ${file.passphrase ?? ''}`).toBe(typeAndBlob(publicLine));
      }
    }
  }, 180_000);

  it('reads every format and encrypted variant Node writes (3DES ones too) to the same key, and fails alike', async () => {
    const files: { text: string; passphrase?: string }[] = [];
    for (const key of keys) {
      const formats = [KeyFormat.OpenSsh, KeyFormat.Pkcs8, KeyFormat.Jwk, ...(key.keyType === 'ssh-rsa' ? [KeyFormat.Pkcs1, KeyFormat.Ssh2] : key.keyType.startsWith('ecdsa') ? [KeyFormat.Sec1] : [])];
      for (const format of formats) {
        files.push({ text: await exportPrivateKey(key, format) });
        if (format !== KeyFormat.Jwk) {
          const text = await exportPrivateKey(key, format, pass);
          files.push({ text, passphrase: pass }, { text, passphrase: 'wrong' }, { text });
        }
      }
      for (const format of [KeyFormat.Ssh, KeyFormat.Ssh2, KeyFormat.Pkcs8, KeyFormat.Jwk]) files.push({ text: await exportPublicKey(key, format) });
      // OpenSSL's DES-EDE3-CBC variants: traditional PEM (RSA, EC) and PKCS#8 PBES2.
      const node = createPrivateKey({ key: materialToJwk(key.material, true), format: 'jwk' });
      if (key.keyType !== 'ssh-ed25519') {
        files.push({ text: node.export({ format: 'pem', type: key.keyType === 'ssh-rsa' ? 'pkcs1' : 'sec1', cipher: 'des-ede3-cbc', passphrase: pass }) as string, passphrase: pass });
      }
      files.push({ text: node.export({ format: 'pem', type: 'pkcs8', cipher: 'des-ede3-cbc', passphrase: pass }) as string, passphrase: pass });
    }
    const expected = await Promise.all(files.map((f) => nodeOutcome(f.text, f.passphrase)));
    expect(expected.filter((o) => o.startsWith('key')).length).toBeGreaterThan(files.length / 2);
    expect(await call<string[]>('import', files)).toEqual(expected);
  }, 180_000);
});
