/**
 * The page side of spec/keys/suites/chromium.spec.ts, bundled for the browser: the keys entry with
 * the web key suite (WebCrypto in Chromium, @noble). Functions on `window.keySuitePage` take and
 * return plain data (key files as text, signatures as base64).
 */
import {
  KeyFormat,
  KeyPair,
  exportPrivateKey,
  exportPublicKey,
  generateKeyPair,
  importKey,
  type PublicKeyAlgorithmName,
} from '../../../lib/keys/index.browser.js';
import { keySuite } from '../../../lib/keys/suite.js';

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** Import outcome as Node computes it too: the public line and private JWK, or the error. */
async function outcome(text: string, passphrase: string | undefined): Promise<string> {
  try {
    const key = await importKey(text, passphrase);
    return `key ${await exportPublicKey(key, KeyFormat.Ssh)} ${key.hasPrivateKey ? await exportPrivateKey(key, KeyFormat.Jwk) : ''}`;
  } catch (error) {
    return `error ${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
}

const page = {
  suiteName: (): string => keySuite().name,

  /** Signs `data` with each key (a JWK) under each algorithm. */
  async sign(keys: { jwk: string; algorithm: PublicKeyAlgorithmName }[], data: string): Promise<string[]> {
    const out: string[] = [];
    for (const { jwk, algorithm } of keys) out.push(toBase64(await (await importKey(jwk)).sign(algorithm, fromBase64(data))));
    return out;
  },

  /** Verifies each signature over `data` with the public key blob, and a tampered copy. */
  async verify(items: { blob: string; signature: string }[], data: string): Promise<{ valid: boolean; tampered: boolean }[]> {
    const out: { valid: boolean; tampered: boolean }[] = [];
    for (const { blob, signature } of items) {
      const key = KeyPair.fromPublicKeyBlob(fromBase64(blob));
      const bytes = fromBase64(signature);
      const tampered = bytes.slice();
      tampered[tampered.length - 7]! ^= 4;
      out.push({ valid: await key.verify(fromBase64(data), bytes), tampered: await key.verify(fromBase64(data), tampered) });
    }
    return out;
  },

  /** Generates a key of each type and writes it in every private format, encrypted where the format can be. */
  async generate(types: [PublicKeyAlgorithmName, number?][], passphrase: string): Promise<{ publicLine: string; files: { format: string; passphrase?: string; text: string }[] }[]> {
    const out = [];
    for (const [type, keySize] of types) {
      const key = await generateKeyPair(type, { keySize, comment: `page ${type}` });
      const formats = [KeyFormat.OpenSsh, KeyFormat.Pkcs8, ...(type.includes('rsa') ? [KeyFormat.Pkcs1, KeyFormat.Ssh2] : type.startsWith('ecdsa') ? [KeyFormat.Sec1] : [])];
      const files: { format: string; passphrase?: string; text: string }[] = [{ format: KeyFormat.Jwk, text: await exportPrivateKey(key, KeyFormat.Jwk) }];
      for (const format of formats) {
        files.push({ format, text: await exportPrivateKey(key, format) });
        files.push({ format, passphrase, text: await exportPrivateKey(key, format, passphrase) });
      }
      out.push({ publicLine: await exportPublicKey(key, KeyFormat.Ssh), files });
    }
    return out;
  },

  /** Imports each file (any format, perhaps encrypted), giving what `outcome` gives. */
  async import(files: { text: string; passphrase?: string }[]): Promise<string[]> {
    const out: string[] = [];
    for (const file of files) out.push(await outcome(file.text, file.passphrase));
    return out;
  },
};

(globalThis as unknown as { keySuitePage: typeof page }).keySuitePage = page;
