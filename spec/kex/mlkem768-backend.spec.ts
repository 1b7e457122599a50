/**
 * The ML-KEM-768 of the Node kex backend against `@noble/post-quantum`, byte for byte: node:crypto's
 * where the running Node has it (24.7 and later; the runtime matrix runs this file under Node 24
 * and 26), noble's elsewhere. Also which one a Node of each version takes.
 */
import { randomBytes } from 'node:crypto';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { isSystemRandom } from '../../lib/kex/backend.js';
import { nodeKexBackend } from '../../lib/kex/backends/node.js';
import { nodeMlKem768, nodeNativeMlKem768 } from '../../lib/kex/backends/node-mlkem.js';
import { nobleMlKem768 } from '../../lib/kex/backends/noble-mlkem.js';
import { mlkem768x25519Sha256 } from '../../lib/kex/mlkem768x25519.js';
import { SessionConfig } from '../../lib/config.js';
import { seededRandom } from './seeded-random.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const [major = 0, minor = 0] = (process.versions.node ?? '0.0').split('.').map(Number);
const isBunOrDeno = 'bun' in process.versions || 'deno' in process.versions;
const nodeHasMlKem = !isBunOrDeno && (major > 24 || (major === 24 && minor >= 7));
const systemRandom = SessionConfig.default().randomBytes;

describe('the Node backend ML-KEM-768', () => {
  it(`is node:crypto's on Node 24.7 and later, @noble's before (this is ${isBunOrDeno ? 'Bun or Deno' : `Node ${process.versions.node}`})`, () => {
    expect(nodeNativeMlKem768 !== undefined).toBe(nodeHasMlKem);
    expect(nodeKexBackend.mlkem768).toBe(nodeNativeMlKem768 ?? nobleMlKem768);
    expect(nodeMlKem768).toBe(nodeKexBackend.mlkem768);
  });

  it('derives from a seed the same encapsulation key as noble, and decapsulates what noble encapsulated', () => {
    for (const label of ['a', 'b', 'c']) {
      const seed = seededRandom(`seed-${label}`)(64);
      const ours = nodeMlKem768.keygen(seed);
      const reference = ml_kem768.keygen(seed);
      expect(toHex(ours.publicKey)).toBe(toHex(reference.publicKey));
      const { cipherText, sharedSecret } = ml_kem768.encapsulate(reference.publicKey, seededRandom(`m-${label}`)(32));
      expect(toHex(ours.decapsulate(cipherText))).toBe(toHex(sharedSecret));
    }
  });

  it('encapsulates with the system source to a noble key so that noble decapsulates the same secret', () => {
    const reference = ml_kem768.keygen(randomBytes(64));
    const { cipherText, sharedSecret } = nodeMlKem768.encapsulate(reference.publicKey, systemRandom);
    expect(cipherText).toHaveLength(1088);
    expect(toHex(ml_kem768.decapsulate(cipherText, reference.secretKey))).toBe(toHex(sharedSecret));
  });

  it('takes the message from an injected source: the same seeded source gives the same ciphertext as noble', () => {
    const reference = ml_kem768.keygen(seededRandom('key')(64));
    expect(isSystemRandom(systemRandom)).toBe(true);
    expect(isSystemRandom(seededRandom('m'))).toBe(false);
    const ours = nodeMlKem768.encapsulate(reference.publicKey, seededRandom('m'));
    const theirs = ml_kem768.encapsulate(reference.publicKey, seededRandom('m')(32));
    expect(toHex(ours.cipherText)).toBe(toHex(theirs.cipherText));
    expect(toHex(ours.sharedSecret)).toBe(toHex(theirs.sharedSecret));
  });

  it.each([
    ['a seeded source', () => seededRandom('modulus')],
    ['the system source', () => systemRandom],
  ])('refuses a key whose coefficients are not reduced mod q, with %s', (_, source) => {
    const key = Uint8Array.from(ml_kem768.keygen(seededRandom('bad')(64)).publicKey);
    key.fill(0xff, 0, 384);
    expect(() => nodeMlKem768.encapsulate(key, source())).toThrow();
    const init = new Uint8Array(1216);
    init.set(key);
    init.set(seededRandom('x')(32), 1184);
    expect(() => mlkem768x25519Sha256.server(init, source())).toThrowError('mlkem768x25519-sha256: client ML-KEM public key is invalid');
  });

  it('completes the hybrid exchange both ways with the system source', () => {
    const client = mlkem768x25519Sha256.client(systemRandom);
    const server = mlkem768x25519Sha256.server(client.publicValue, systemRandom);
    expect(toHex(client.computeSecret(server.publicValue))).toBe(toHex(server.sharedSecret));
  });
});
