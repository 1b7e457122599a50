import { createHash, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';
import {
  MLKEM768X25519_CLIENT_LENGTH,
  MLKEM768X25519_SERVER_LENGTH,
  mlkem768x25519Sha256,
} from '../../lib/kex/mlkem768x25519.js';
import { seededRandom } from './seeded-random.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const spkiPrefix = Buffer.from('302a300506032b656e032100', 'hex');

/** An independent client: noble ML-KEM keys and a node-generated X25519 key. */
function independentClient() {
  const kem = ml_kem768.keygen();
  const x25519 = generateKeyPairSync('x25519');
  const x25519Public = Buffer.from(x25519.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { kem, x25519, init: Uint8Array.from(Buffer.concat([kem.publicKey, x25519Public])) };
}

/** K as the draft defines it, built by hand: string(SHA-256(K_PQ || K_CL)). */
function expectedSecret(mlkemSecret: Uint8Array, x25519Secret: Uint8Array): string {
  const digest = createHash('sha256').update(mlkemSecret).update(x25519Secret).digest();
  return '00000020' + digest.toString('hex');
}

function rejection(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('Expected a ProtocolError');
}

describe('mlkem768x25519Sha256', () => {
  it('sends C_INIT as the 1184-byte ML-KEM key followed by the 32-byte X25519 key', () => {
    const client = mlkem768x25519Sha256.client(seededRandom('layout'));
    expect(client.publicValue).toHaveLength(MLKEM768X25519_CLIENT_LENGTH);
    expect(MLKEM768X25519_CLIENT_LENGTH).toBe(1216);
    const seed = seededRandom('layout')(64);
    expect(toHex(client.publicValue.subarray(0, 1184))).toBe(toHex(ml_kem768.keygen(seed).publicKey));
  });

  it('answers an independent client with S_REPLY = ciphertext || X25519 key and K = string(SHA-256(K_PQ || K_CL))', () => {
    const peer = independentClient();
    const result = mlkem768x25519Sha256.server(peer.init, seededRandom('server'));
    expect(result.publicValue).toHaveLength(MLKEM768X25519_SERVER_LENGTH);
    const mlkemSecret = ml_kem768.decapsulate(result.publicValue.subarray(0, 1088), peer.kem.secretKey);
    const serverX25519 = createPublicKey({
      key: Buffer.concat([spkiPrefix, result.publicValue.subarray(1088)]),
      format: 'der',
      type: 'spki',
    });
    const x25519Secret = diffieHellman({ privateKey: peer.x25519.privateKey, publicKey: serverX25519 });
    expect(toHex(result.sharedSecret)).toBe(expectedSecret(mlkemSecret, x25519Secret));
  });

  it('completes as a client against an independent server built from noble and node', () => {
    const client = mlkem768x25519Sha256.client(seededRandom('client'));
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(client.publicValue.subarray(0, 1184));
    const x25519 = generateKeyPairSync('x25519');
    const clientX25519 = createPublicKey({
      key: Buffer.concat([spkiPrefix, client.publicValue.subarray(1184)]),
      format: 'der',
      type: 'spki',
    });
    const x25519Secret = diffieHellman({ privateKey: x25519.privateKey, publicKey: clientX25519 });
    const reply = Buffer.concat([cipherText, Buffer.from(x25519.publicKey.export({ format: 'jwk' }).x!, 'base64url')]);
    expect(toHex(client.computeSecret(reply))).toBe(expectedSecret(sharedSecret, x25519Secret));
  });

  it.each([0, 32, 1184, 1215, 1217])('refuses a C_INIT of %i bytes', (length) => {
    const error = rejection(() => mlkem768x25519Sha256.server(new Uint8Array(length), seededRandom('short')));
    expect(error.reason).toBe(DisconnectReason.keyExchangeFailed);
    expect(error.message).toBe(`mlkem768x25519-sha256: client value C_INIT must be 1216 bytes, got ${length}`);
  });

  it.each([0, 1088, 1119, 1121])('refuses an S_REPLY of %i bytes', (length) => {
    const client = mlkem768x25519Sha256.client(seededRandom('reply-length'));
    const error = rejection(() => client.computeSecret(new Uint8Array(length)));
    expect(error.message).toBe(`mlkem768x25519-sha256: server reply S_REPLY must be 1120 bytes, got ${length}`);
  });

  it('refuses an ML-KEM public key whose coefficients are not reduced mod q', () => {
    const init = Uint8Array.from(independentClient().init);
    init.fill(0xff, 0, 384);
    const error = rejection(() => mlkem768x25519Sha256.server(init, seededRandom('modulus')));
    expect(error.message).toBe('mlkem768x25519-sha256: client ML-KEM public key is invalid');
  });

  it('refuses a low-order X25519 half on either side', () => {
    const init = Uint8Array.from(independentClient().init);
    init.fill(0, 1184);
    expect(() => mlkem768x25519Sha256.server(init, seededRandom('zero'))).toThrowError(/all zero/);
    const client = mlkem768x25519Sha256.client(seededRandom('zero-client'));
    const reply = new Uint8Array(1120);
    expect(() => client.computeSecret(reply)).toThrowError(/all zero/);
  });
});
