import { beforeAll, describe, expect, it } from 'vitest';
import { KeyError } from '../../lib/errors.js';
import { exportPrivateKey, exportPublicKey, generateKeyPair, importKey, KeyFormat, type KeyPair } from '../../lib/keys/index.js';

const pass = 'fuzz';
const samples: { name: string; text: string; passphrase?: string; flips: number }[] = [];

/** A small deterministic generator (mulberry32) so every run mutates the same bytes. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  const ed = await generateKeyPair('ssh-ed25519', { comment: 'fuzz' });
  const ec = await generateKeyPair('ecdsa-sha2-nistp384', { comment: 'fuzz' });
  const rsa = await generateKeyPair('rsa-sha2-256', { keySize: 2048, comment: 'fuzz' });
  const add = async (name: string, text: Promise<string>, passphrase?: string, flips = 40): Promise<void> => {
    samples.push({ name, text: await text, passphrase, flips });
  };
  await add('openssh ed25519', exportPrivateKey(ed, KeyFormat.OpenSsh));
  await add('openssh rsa', exportPrivateKey(rsa, KeyFormat.OpenSsh));
  await add('openssh ecdsa encrypted', exportPrivateKey(ec, KeyFormat.OpenSsh, pass), pass, 6);
  await add('pkcs8 ecdsa', exportPrivateKey(ec, KeyFormat.Pkcs8));
  await add('pkcs8 rsa encrypted', exportPrivateKey(rsa, KeyFormat.Pkcs8, pass), pass, 10);
  await add('pkcs1 rsa', exportPrivateKey(rsa, KeyFormat.Pkcs1));
  await add('pkcs1 rsa legacy encrypted', exportPrivateKey(rsa, KeyFormat.Pkcs1, pass), pass);
  await add('sec1 ecdsa', exportPrivateKey(ec, KeyFormat.Sec1));
  await add('spki ed25519', exportPublicKey(ed, KeyFormat.Pkcs8));
  await add('ssh line rsa', exportPublicKey(rsa, KeyFormat.Ssh));
  await add('ssh2 ecdsa', exportPublicKey(ec, KeyFormat.Ssh2));
  await add('jwk rsa', exportPrivateKey(rsa, KeyFormat.Jwk));
  await add('ssh.com rsa', exportPrivateKey(rsa, KeyFormat.Ssh2));
  await add('ssh.com rsa encrypted', exportPrivateKey(rsa, KeyFormat.Ssh2, pass), pass);
}, 30_000);

/** Imports `text`; anything but a KeyPair or a KeyError fails the test, as does taking longer than `limit` ms. */
async function expectCleanOutcome(text: string | Uint8Array, passphrase: string | undefined, limit: number): Promise<KeyPair | KeyError> {
  const started = performance.now();
  let outcome: KeyPair | KeyError;
  try {
    outcome = await importKey(text, passphrase);
  } catch (error) {
    if (!(error instanceof KeyError)) throw new Error(`Not a KeyError: ${String(error)}`, { cause: error });
    expect(error.message).toMatch(/^[A-Z]/);
    expect(error.message).not.toMatch(/\.$/);
    outcome = error;
  }
  expect(performance.now() - started).toBeLessThan(limit);
  return outcome;
}

/** Splits armored text into prefix, decoded body and suffix, so the body can be mutated and re-armored. */
function unarmor(text: string): { body: Buffer; armor(body: Uint8Array): string } | undefined {
  const pem = /^(-{4,5} ?BEGIN [A-Z0-9 ]+ ?-{4,5}\n(?:[A-Za-z-]+: .*\n)*\n?)([A-Za-z0-9+/=\n]+)(-{4,5} ?END [A-Z0-9 ]+ ?-{4,5}\n?)$/.exec(text);
  if (pem) {
    return { body: Buffer.from(pem[2]!, 'base64'), armor: (b) => `${pem[1]}${Buffer.from(b).toString('base64')}\n${pem[3]}` };
  }
  const line = /^(\S+ )(\S+)( .*)?$/.exec(text);
  if (line) return { body: Buffer.from(line[2]!, 'base64'), armor: (b) => `${line[1]}${Buffer.from(b).toString('base64')}${line[3] ?? ''}` };
  return undefined;
}

function limitFor(sample: { passphrase?: string }): number {
  // Generous bounds for loaded CI machines: a hang shows as minutes, not as these limits. Encrypted
  // samples run a real KDF, and a flipped bcrypt round count can raise it up to 144 rounds.
  return sample.passphrase ? 15_000 : 2000;
}

describe('importKey on corrupt input', () => {
  it('reads every unmodified sample', async () => {
    for (const sample of samples) expect(await expectCleanOutcome(sample.text, sample.passphrase, limitFor(sample)), sample.name).not.toBeInstanceOf(KeyError);
  });

  it('fails cleanly on every truncation of the text', async () => {
    for (const sample of samples) {
      for (const fraction of [0, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99]) {
        const cut = sample.text.slice(0, Math.floor(sample.text.length * fraction));
        const outcome = await expectCleanOutcome(cut, sample.passphrase, limitFor(sample));
        if (fraction < 0.95) expect(outcome, `${sample.name} cut at ${fraction}`).toBeInstanceOf(KeyError);
      }
    }
  }, 60_000);

  it('fails cleanly on truncated binary bodies re-armored', async () => {
    for (const sample of samples) {
      const parts = unarmor(sample.text);
      if (!parts) continue;
      for (const fraction of [0.1, 0.3, 0.6, 0.9]) {
        const body = parts.body.subarray(0, Math.floor(parts.body.length * fraction));
        expect(await expectCleanOutcome(parts.armor(body), sample.passphrase, limitFor(sample)), `${sample.name} at ${fraction}`).toBeInstanceOf(KeyError);
      }
    }
  }, 60_000);

  it('never throws anything but KeyError on flipped bytes', async () => {
    const next = random(0x5eed);
    for (const sample of samples) {
      const parts = unarmor(sample.text);
      for (let i = 0; i < sample.flips; i++) {
        if (parts) {
          const body = Buffer.from(parts.body);
          body[Math.floor(next() * body.length)]! ^= 1 << Math.floor(next() * 8);
          await expectCleanOutcome(parts.armor(body), sample.passphrase, limitFor(sample));
        } else {
          const chars = [...sample.text];
          chars[Math.floor(next() * chars.length)] = String.fromCharCode(32 + Math.floor(next() * 95));
          await expectCleanOutcome(chars.join(''), sample.passphrase, limitFor(sample));
        }
      }
    }
  }, 120_000);

  it('rejects huge length fields at once instead of allocating or looping', async () => {
    for (const sample of samples) {
      const parts = unarmor(sample.text);
      if (!parts) continue;
      // Encrypted samples run their KDF whenever the header survives, so they are probed more sparsely.
      for (let at = 0; at + 4 <= Math.min(parts.body.length, 120); at += sample.passphrase ? 7 : 1) {
        const body = Buffer.from(parts.body);
        body.writeUInt32BE(0xfffffff0, at);
        await expectCleanOutcome(parts.armor(body), sample.passphrase, limitFor(sample));
      }
    }
  }, 120_000);

  it('rejects a DER length that claims gigabytes', async () => {
    const der = Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00]);
    await expect(importKey(new Uint8Array(der))).rejects.toBeInstanceOf(KeyError);
    const pem = `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${der.toString('base64')}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
    await expect(importKey(pem, pass)).rejects.toThrow(/^Invalid PKCS#8 encrypted private key: element of 2147483647 bytes/);
  });

  it('refuses an OpenSSH key whose bcrypt round count is absurd before deriving anything', async () => {
    const sample = samples.find((s) => s.name === 'openssh ecdsa encrypted')!;
    const parts = unarmor(sample.text)!;
    const body = Buffer.from(parts.body);
    // magic(15) + "aes256-ctr"(4+10) + "bcrypt"(4+6) + kdfoptions length(4) + salt(4+16) = rounds offset
    const roundsAt = 15 + 14 + 10 + 4 + 20;
    expect(body.readUInt32BE(roundsAt)).toBe(16);
    body.writeUInt32BE(1_000_000, roundsAt);
    await expect(importKey(parts.armor(body), pass)).rejects.toThrow('OpenSSH private key bcrypt rounds 1000000 out of range 1-1024');
  });

  it('rejects JWK input that is not a key', async () => {
    for (const text of ['{', '[]', '{"kty":"oct","k":"AAAA"}', '{"kty":"EC","crv":"P-999","x":"AA","y":"AA"}', '{"kty":"RSA","n":"!!","e":"AQAB"}']) {
      expect(await expectCleanOutcome(text, undefined, 2000)).toBeInstanceOf(KeyError);
    }
  });
});
