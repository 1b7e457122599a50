/**
 * mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex, formerly draft-kampanakis-curdle-ssh-pq-ke;
 * OpenSSH 9.9): ML-KEM-768 (FIPS 203; the kex backend's: node:crypto on Node 24.7+, else
 * @noble/post-quantum) combined with X25519. All randomness (KEM seed, encapsulation message,
 * X25519 scalar) comes from the injected source, except that node:crypto draws the encapsulation
 * message itself when that source is the runtime's CSPRNG anyway (backend.ts `isSystemRandom`).
 * Message framing (SSH_MSG_KEX_HYBRID_INIT/REPLY) belongs to the kex driver.
 */
import { concatBytes } from '../codec/wire.js';
import { DisconnectReason, ProtocolError } from '../errors.js';
import { kexBackend } from './backend.js';
import { X25519_LENGTH, x25519KeyPair, x25519SharedSecret } from './curve25519.js';
import { sharedSecretAsString } from './secret-encoding.js';
import type { KexEphemeral, KexMethod, KexServerResult } from './types.js';

/** FIPS 203 §8 ML-KEM-768 sizes. */
const mlkemPublicKeyLength = 1184;
const mlkemCipherTextLength = 1088;
const mlkemSeedLength = 64;

/** C_INIT = ML-KEM public key || X25519 public key. */
export const MLKEM768X25519_CLIENT_LENGTH = mlkemPublicKeyLength + X25519_LENGTH;
/** S_REPLY = ML-KEM ciphertext || X25519 public key. */
export const MLKEM768X25519_SERVER_LENGTH = mlkemCipherTextLength + X25519_LENGTH;

function checkLength(what: string, value: Uint8Array, expected: number): void {
  if (value.length !== expected) {
    throw new ProtocolError(
      `mlkem768x25519-sha256: ${what} must be ${expected} bytes, got ${value.length}`,
      DisconnectReason.keyExchangeFailed,
    );
  }
}

/** draft-ietf-sshm-mlkem-hybrid-kex §2.4: K = HASH(K_PQ || K_CL), encoded as a string. */
function combine(mlkemSecret: Uint8Array, x25519Secret: Uint8Array): Uint8Array {
  return sharedSecretAsString(kexBackend().hash('sha256', mlkemSecret, x25519Secret));
}

/** draft-ietf-sshm-mlkem-hybrid-kex §2.2: the client's ephemeral ML-KEM and X25519 keys. */
function client(randomBytes: (n: number) => Uint8Array): KexEphemeral {
  const kem = kexBackend().mlkem768.keygen(randomBytes(mlkemSeedLength));
  const classical = x25519KeyPair(randomBytes(X25519_LENGTH));
  return {
    publicValue: concatBytes(kem.publicKey, classical.publicValue),
    computeSecret(reply) {
      checkLength('server reply S_REPLY', reply, MLKEM768X25519_SERVER_LENGTH);
      const mlkemSecret = kem.decapsulate(reply.subarray(0, mlkemCipherTextLength));
      const x25519Secret = x25519SharedSecret(classical, reply.subarray(mlkemCipherTextLength));
      return combine(mlkemSecret, x25519Secret);
    },
  };
}

/** draft-ietf-sshm-mlkem-hybrid-kex §2.3: encapsulate to the client's key and add our X25519 half. */
function server(clientPublicValue: Uint8Array, randomBytes: (n: number) => Uint8Array): KexServerResult {
  checkLength('client value C_INIT', clientPublicValue, MLKEM768X25519_CLIENT_LENGTH);
  const clientKem = clientPublicValue.subarray(0, mlkemPublicKeyLength);
  let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    // FIPS 203 §7.2 input check: every coefficient of the key must be reduced mod q.
    encapsulated = kexBackend().mlkem768.encapsulate(clientKem, randomBytes);
  } catch (cause) {
    throw new ProtocolError('mlkem768x25519-sha256: client ML-KEM public key is invalid', DisconnectReason.keyExchangeFailed, {
      cause,
    });
  }
  const classical = x25519KeyPair(randomBytes(X25519_LENGTH));
  const x25519Secret = x25519SharedSecret(classical, clientPublicValue.subarray(mlkemPublicKeyLength));
  return {
    publicValue: concatBytes(encapsulated.cipherText, classical.publicValue),
    sharedSecret: combine(encapsulated.sharedSecret, x25519Secret),
  };
}

/** draft-ietf-sshm-mlkem-hybrid-kex: mlkem768x25519-sha256. */
export const mlkem768x25519Sha256: KexMethod = {
  name: 'mlkem768x25519-sha256',
  hash: 'sha256',
  publicEncoding: 'string',
  client,
  server,
};
