/**
 * The RFC 4253 §7.2 key derivation: the six per-direction keys (IVs, encryption keys, integrity
 * keys) from the shared secret K, the exchange hash H and the session id. Pure functions over
 * node:crypto hashes; choosing lengths (from the negotiated cipher and MAC) is the caller's job.
 */
import { createHash } from 'node:crypto';
import type { DirectionKeys } from '../cipher/types.js';

/** The RFC 4253 §7.2 letters: IV c2s/s2c ('A'/'B'), encryption c2s/s2c ('C'/'D'), MAC c2s/s2c ('E'/'F'). */
export type KeyLetter = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

/** What every derived key depends on. */
export interface KdfSecrets {
  /** node:crypto hash of the key exchange method (`sha256`, `sha512`, ...). */
  readonly hash: string;
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
  const first = createHash(secrets.hash)
    .update(secrets.sharedSecret)
    .update(secrets.exchangeHash)
    .update(letter, 'latin1')
    .update(secrets.sessionId)
    .digest();
  out.set(first.subarray(0, length));
  let filled = Math.min(first.length, length);
  while (filled < length) {
    // Each extension block hashes everything produced so far, not only the previous block.
    const next = createHash(secrets.hash)
      .update(secrets.sharedSecret)
      .update(secrets.exchangeHash)
      .update(out.subarray(0, filled))
      .digest();
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
