/**
 * The RFC 4253 §7.2 key derivation: the six per-direction keys (IVs, encryption keys, integrity
 * keys) from the shared secret K, the exchange hash H and the session id. Pure functions over
 * the installed kex backend's hashes; choosing lengths (from the negotiated cipher and MAC) is the caller's job.
 */
import type { DirectionKeys } from '../cipher/types.js';
import { kexBackend, type KexHashName } from './backend.js';

/** The RFC 4253 §7.2 letters: IV c2s/s2c ('A'/'B'), encryption c2s/s2c ('C'/'D'), MAC c2s/s2c ('E'/'F'). */
export type KeyLetter = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

/** Each letter as the one byte it is hashed as. */
const letterBytes: Record<KeyLetter, Uint8Array> = {
  A: Uint8Array.of(0x41),
  B: Uint8Array.of(0x42),
  C: Uint8Array.of(0x43),
  D: Uint8Array.of(0x44),
  E: Uint8Array.of(0x45),
  F: Uint8Array.of(0x46),
};

/** What every derived key depends on. */
export interface KdfSecrets {
  /** The hash of the key exchange method (`sha256`, `sha512`, ...). */
  readonly hash: KexHashName;
  /** K exactly as it enters the hash: an SSH mpint or string, length prefix included. */
  readonly sharedSecret: Uint8Array;
  /** H of this exchange. */
  readonly exchangeHash: Uint8Array;
  /** H of the first exchange of the connection (equal to `exchangeHash` on the first one). */
  readonly sessionId: Uint8Array;
}

/** Byte lengths wanted for one direction; 0 yields an empty key (e.g. no MAC under AEAD). */
export interface DirectionKeyLengths {
  readonly iv: number;
  readonly encryptionKey: number;
  readonly integrityKey: number;
}

/** Input of `deriveKeys`. */
export interface DeriveKeysInput extends KdfSecrets {
  readonly lengths: {
    readonly clientToServer: DirectionKeyLengths;
    readonly serverToClient: DirectionKeyLengths;
  };
}

/** The keys of both directions after one exchange. */
export interface DerivedKeys {
  readonly clientToServer: DirectionKeys;
  readonly serverToClient: DirectionKeys;
}

/**
 * RFC 4253 §7.2: HASH(K || H || letter || session_id), extended with
 * K_n = HASH(K || H || K_1 || ... || K_(n-1)) until `length` bytes are available.
 * @param letter - which key: 'A' to 'F'
 * @param length - bytes wanted
 * @param secrets - hash, K, H and session id
 * @returns exactly `length` bytes
 */
export function deriveKey(letter: KeyLetter, length: number, secrets: KdfSecrets): Uint8Array {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const { hash } = kexBackend();
  const first = hash(secrets.hash, secrets.sharedSecret, secrets.exchangeHash, letterBytes[letter], secrets.sessionId);
  out.set(first.subarray(0, length));
  let filled = Math.min(first.length, length);
  while (filled < length) {
    // Each extension block hashes everything produced so far, not only the previous block.
    const next = hash(secrets.hash, secrets.sharedSecret, secrets.exchangeHash, out.subarray(0, filled));
    const take = Math.min(next.length, length - filled);
    out.set(next.subarray(0, take), filled);
    filled += take;
  }
  return out;
}

/**
 * RFC 4253 §7.2: derives IV, encryption key and integrity key for both directions.
 * @param input - hash, K, H, session id and the lengths the negotiated algorithms need
 * @returns the keys, client-to-server from letters A/C/E and server-to-client from B/D/F
 */
export function deriveKeys(input: DeriveKeysInput): DerivedKeys {
  const { clientToServer: c2s, serverToClient: s2c } = input.lengths;
  return {
    clientToServer: {
      iv: deriveKey('A', c2s.iv, input),
      encryptionKey: deriveKey('C', c2s.encryptionKey, input),
      integrityKey: deriveKey('E', c2s.integrityKey, input),
    },
    serverToClient: {
      iv: deriveKey('B', s2c.iv, input),
      encryptionKey: deriveKey('D', s2c.encryptionKey, input),
      integrityKey: deriveKey('F', s2c.integrityKey, input),
    },
  };
}
