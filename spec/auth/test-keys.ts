/** Keys of every supported type for authentication specs, generated once per spec file. */
import { generateKeyPair, type KeyPair, type PublicKeyAlgorithmName } from '../../lib/keys/key-pair.js';

export const keyTypes = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type TestKeyType = (typeof keyTypes)[number];

let keys: Promise<Record<TestKeyType, KeyPair>> | undefined;

/** One key per type (RSA 2048 bits), the same objects for every call in a file. */
export function testKeys(): Promise<Record<TestKeyType, KeyPair>> {
  keys ??= (async () => {
    const entries = await Promise.all(
      keyTypes.map(async (t) => [t, await generateKeyPair((t === 'ssh-rsa' ? 'rsa-sha2-512' : t) as PublicKeyAlgorithmName, { keySize: 2048 })] as const),
    );
    return Object.fromEntries(entries) as Record<TestKeyType, KeyPair>;
  })();
  return keys;
}
