import { describe, expect, it } from 'vitest';
import { KeyPair, generateKeyPair } from '../../lib/keys/key-pair.js';
import { publicKeyAlgorithms as algorithms } from '../helpers/pairs.js';


describe('KeyPair', () => {
  it.each(algorithms)('%s signs, verifies and round-trips its public key blob', async (algorithm) => {
    const key = await generateKeyPair(algorithm, { keySize: 2048 });
    const data = new TextEncoder().encode('exchange hash');
    const sig = await key.sign(algorithm, data);
    const pub = KeyPair.fromPublicKeyBlob(key.publicKeyBlob);
    expect(pub.hasPrivateKey).toBe(false);
    expect(pub.equals(key)).toBe(true);
    expect(await pub.verify(data, sig)).toBe(true);
    expect(await pub.verify(new TextEncoder().encode('other'), sig)).toBe(false);
    expect(await pub.verify(data, sig, ['nothing-allowed'])).toBe(false);
    const flipped = sig.slice();
    flipped[flipped.length - 3]! ^= 1;
    expect(await pub.verify(data, flipped)).toBe(false);
  });

  it('refuses to sign with an algorithm of another key type', async () => {
    const key = await generateKeyPair('ssh-ed25519');
    await expect(key.sign('rsa-sha2-256', new Uint8Array(1))).rejects.toThrow(/cannot sign with rsa-sha2-256/);
  });
});
