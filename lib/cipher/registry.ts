/**
 * The cipher and MAC registries (RFC 4253 §6.3-6.4) keyed by exact wire name, and the one call the
 * packet stage makes with the negotiated names to get a direction's OpeningKey or SealingKey.
 * Negotiation itself (RFC 4253 §7.1) and key derivation (§7.2) belong to kex/.
 */
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, OpeningKey, SealingKey } from './types.js';
import { DisconnectReason, ProtocolError } from '../errors.js';
import { aes256Cbc } from './aes-cbc.js';
import { aes128Ctr, aes192Ctr, aes256Ctr } from './aes-ctr.js';
import { aes128Gcm, aes256Gcm } from './aes-gcm.js';
import { chacha20Poly1305 } from './chacha20-poly1305.js';
import { hmacSha2_256, hmacSha2_256Etm, hmacSha2_512, hmacSha2_512Etm, macNone } from './hmac-sha2.js';
import { cipherNone } from './none.js';

/** Every cipher wire name we implement, strongest and fastest first. */
export const CIPHER_NAMES = [
  'aes256-gcm@openssh.com',
  'aes128-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes256-ctr',
  'aes192-ctr',
  'aes128-ctr',
  'aes256-cbc',
  'none',
] as const;
/** A cipher wire name from CIPHER_NAMES. */
export type CipherName = (typeof CIPHER_NAMES)[number];

/** Every MAC wire name we implement, encrypt-then-MAC first. */
export const MAC_NAMES = [
  'hmac-sha2-256-etm@openssh.com',
  'hmac-sha2-512-etm@openssh.com',
  'hmac-sha2-256',
  'hmac-sha2-512',
  'none',
] as const;
/** A MAC wire name from MAC_NAMES. */
export type MacName = (typeof MAC_NAMES)[number];

/** RFC 4253 §6.3 ciphers by wire name. */
export const cipherAlgorithms: ReadonlyMap<string, CipherAlgorithm> = new Map(
  [aes256Gcm, aes128Gcm, chacha20Poly1305, aes256Ctr, aes192Ctr, aes128Ctr, aes256Cbc, cipherNone].map((c) => [c.name, c]),
);

/** RFC 4253 §6.4 MACs by wire name. */
export const macAlgorithms: ReadonlyMap<string, MacAlgorithm> = new Map(
  [hmacSha2_256Etm, hmacSha2_512Etm, hmacSha2_256, hmacSha2_512, macNone].map((m) => [m.name, m]),
);

/** The negotiated algorithms and derived keys of one direction. */
export interface PacketProtectionOptions {
  /** Negotiated encryption algorithm name (RFC 4253 §7.1 encryption_algorithms_*). */
  cipher: string;
  /** Negotiated MAC name; ignored when the cipher is AEAD (RFC 5647 §5.1), so it may be `none` or absent then. */
  mac?: string;
  /** RFC 4253 §7.2 key material for this direction: IV, encryption key, integrity key. */
  keys: DirectionKeys;
}

/**
 * Looks up the negotiated algorithms and builds the strategy for one direction: `opening` for
 * the packets we receive, `sealing` for those we send.
 * @example
 * const sealing = createPacketProtection({ cipher: 'aes256-ctr', mac: 'hmac-sha2-256-etm@openssh.com', keys, direction: 'sealing' });
 * @throws ProtocolError (KEY_EXCHANGE_FAILED) for a name we do not implement
 */
export function createPacketProtection(options: PacketProtectionOptions & { direction: 'opening' }): OpeningKey;
export function createPacketProtection(options: PacketProtectionOptions & { direction: 'sealing' }): SealingKey;
export function createPacketProtection(
  options: PacketProtectionOptions & { direction: 'opening' | 'sealing' },
): OpeningKey | SealingKey {
  const cipher = cipherAlgorithms.get(options.cipher);
  if (!cipher) throw new ProtocolError(`Unknown cipher ${options.cipher}`, DisconnectReason.keyExchangeFailed);
  let mac: MacAlgorithm | undefined;
  if (!cipher.aead) {
    mac = macAlgorithms.get(options.mac ?? '');
    if (!mac) throw new ProtocolError(`Unknown MAC ${options.mac} for cipher ${options.cipher}`, DisconnectReason.keyExchangeFailed);
  }
  return options.direction === 'opening' ? cipher.opening(options.keys, mac) : cipher.sealing(options.keys, mac);
}
