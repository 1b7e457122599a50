/**
 * bcrypt_pbkdf, the key derivation of OpenSSH private keys (OpenSSH PROTOCOL.key, OpenBSD
 * bcrypt_pbkdf(3)): a PBKDF2-like loop whose PRF is a bcrypt hash of SHA-512 digests, with the
 * output bytes interleaved across blocks. Owns only the derivation, not the key file format.
 */
import { keySuite } from '../suite.js';
import { Blowfish } from './blowfish.js';

const hashBytes = 32;
const magic = new TextEncoder().encode('OxychromaticBlowfishSwatDynamite');

/** OpenBSD bcrypt_hash: 64 rounds of eksblowfish keyed with both digests, then encrypt the magic 64 times. */
function bcryptHash(sha2pass: Uint8Array, sha2salt: Uint8Array): Uint8Array {
  const state = new Blowfish();
  state.expand(sha2pass, sha2salt);
  for (let i = 0; i < 64; i++) {
    state.expand(sha2salt);
    state.expand(sha2pass);
  }
  const view = new DataView(magic.buffer, magic.byteOffset, magic.byteLength);
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = view.getUint32(i * 4);
  for (let round = 0; round < 64; round++) {
    for (let i = 0; i < 8; i += 2) {
      state.encrypt(words[i]!, words[i + 1]!);
      words[i] = state.block[0]!;
      words[i + 1] = state.block[1]!;
    }
  }
  // The words leave in little-endian order, unlike the big-endian input.
  const out = new Uint8Array(hashBytes);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, words[i]!, true);
  return out;
}

/** setImmediate where the runtime has it (Node, Bun, Deno): setTimeout(0) is clamped to 1 ms or more. */
const schedule: (callback: () => void) => void =
  (globalThis as { setImmediate?: (callback: () => void) => void }).setImmediate ?? ((callback) => setTimeout(callback, 0));

/** Lets the event loop run: one bcrypt hash costs milliseconds, a whole derivation hundreds. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => schedule(resolve));

/**
 * OpenBSD bcrypt_pbkdf(3): derives `keyLength` bytes from `passphrase` and `salt` in `rounds`
 * rounds. The caller bounds `rounds`; the cost is linear in it. The work is deliberately slow
 * (about 10 ms per round and output block here), so it yields to the event loop after every
 * bcrypt hash: a server importing an encrypted key keeps serving its sessions meanwhile.
 */
export async function bcryptPbkdf(passphrase: Uint8Array, salt: Uint8Array, options: { keyLength: number; rounds: number }): Promise<Uint8Array> {
  const { keyLength, rounds } = options;
  const stride = Math.ceil(keyLength / hashBytes);
  const amount = Math.ceil(keyLength / stride);
  const suite = keySuite();
  const sha2pass = suite.hash('sha512', passphrase);
  const key = new Uint8Array(keyLength);
  const countSalt = new Uint8Array(salt.length + 4);
  countSalt.set(salt);
  const countView = new DataView(countSalt.buffer);
  for (let count = 1, left = keyLength; left > 0; count++) {
    countView.setUint32(salt.length, count);
    let tmp = bcryptHash(sha2pass, suite.hash('sha512', countSalt));
    const out = tmp.slice();
    for (let round = 1; round < rounds; round++) {
      await yieldToEventLoop();
      tmp = bcryptHash(sha2pass, suite.hash('sha512', tmp));
      for (let j = 0; j < out.length; j++) out[j]! ^= tmp[j]!;
    }
    // Spread this block's bytes across the key at `stride` so every block shapes the whole key.
    const take = Math.min(amount, left);
    let i = 0;
    for (; i < take; i++) {
      const dest = i * stride + (count - 1);
      if (dest >= keyLength) break;
      key[dest] = out[i]!;
    }
    left -= i;
    await yieldToEventLoop();
  }
  sha2pass.fill(0);
  return key;
}
