/**
 * The cipher and MAC registries (RFC 4253 §6.3-6.4) keyed by exact wire name, and the one call the
 * packet stage makes with the negotiated names to get a direction's OpeningKey or SealingKey. The
 * algorithms themselves come from the installed cipher suite (suite.ts): node:crypto on Node,
 * `@noble/*` in the browser. Negotiation itself (RFC 4253 §7.1) and key derivation (§7.2) belong
 * to kex/.
 */
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, OpeningKey, SealingKey } from './types.js';
import { DisconnectReason, ProtocolError } from '../errors.js';
import type { IndexedCipherSuite } from './suite.js';
import { installedCipherSuite } from './suite.js';

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

/** A read-only map that always shows the installed suite's current algorithms of one kind. */
class InstalledAlgorithms<T> implements ReadonlyMap<string, T> {
  readonly #pick: (suite: IndexedCipherSuite) => ReadonlyMap<string, T>;
  constructor(pick: (suite: IndexedCipherSuite) => ReadonlyMap<string, T>) {
    this.#pick = pick;
  }
  get #map(): ReadonlyMap<string, T> {
    return this.#pick(installedCipherSuite());
  }
  get size(): number {
    return this.#map.size;
  }
  get(name: string): T | undefined {
    return this.#map.get(name);
  }
  has(name: string): boolean {
    return this.#map.has(name);
  }
  forEach(callback: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    this.#map.forEach((value, key) => callback.call(thisArg, value, key, this));
  }
  entries(): MapIterator<[string, T]> {
    return this.#map.entries();
  }
  keys(): MapIterator<string> {
    return this.#map.keys();
  }
  values(): MapIterator<T> {
    return this.#map.values();
  }
  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.#map.entries();
  }
}

/** RFC 4253 §6.3 ciphers of the installed suite by wire name. */
export const cipherAlgorithms: ReadonlyMap<string, CipherAlgorithm> = new InstalledAlgorithms((suite) => suite.ciphers);

/** RFC 4253 §6.4 MACs of the installed suite by wire name. */
export const macAlgorithms: ReadonlyMap<string, MacAlgorithm> = new InstalledAlgorithms((suite) => suite.macs);

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
 * Looks up the negotiated algorithms in the installed suite and builds the strategy for one
 * direction: `opening` for the packets we receive, `sealing` for those we send.
 * @example
 * const sealing = createPacketProtection({ cipher: 'aes256-ctr', mac: 'hmac-sha2-256-etm@openssh.com', keys, direction: 'sealing' });
 * @throws ProtocolError (KEY_EXCHANGE_FAILED) for a name we do not implement; SshError when no suite is installed
 */
export function createPacketProtection(options: PacketProtectionOptions & { direction: 'opening' }): OpeningKey;
export function createPacketProtection(options: PacketProtectionOptions & { direction: 'sealing' }): SealingKey;
export function createPacketProtection(
  options: PacketProtectionOptions & { direction: 'opening' | 'sealing' },
): OpeningKey | SealingKey {
  const suite = installedCipherSuite();
  const cipher = suite.ciphers.get(options.cipher);
  if (!cipher) throw new ProtocolError(`Unknown cipher ${options.cipher}`, DisconnectReason.keyExchangeFailed);
  let mac: MacAlgorithm | undefined;
  if (!cipher.aead) {
    mac = suite.macs.get(options.mac ?? '');
    if (!mac) throw new ProtocolError(`Unknown MAC ${options.mac} for cipher ${options.cipher}`, DisconnectReason.keyExchangeFailed);
  }
  return options.direction === 'opening' ? cipher.opening(options.keys, mac) : cipher.sealing(options.keys, mac);
}
