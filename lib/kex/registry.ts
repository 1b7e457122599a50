/**
 * The key exchange methods ssh-streams implements, by wire name. `none` is a name only: it
 * means "no key exchange" (SessionConfig.noSecurity) and has no KexMethod; the transport
 * decides what it does. Negotiation (negotiate.ts) never picks a name outside this file.
 */
import { curve25519Sha256, curve25519Sha256Libssh } from './curve25519.js';
import { diffieHellmanGroup14Sha256, diffieHellmanGroup16Sha512 } from './dh-group.js';
import { ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521 } from './ecdh-nist.js';
import { mlkem768x25519Sha256 } from './mlkem768x25519.js';
import type { KexMethod } from './types.js';

/** Wire names of the implemented key exchange methods, strongest first. */
export const KEX_NAMES = [
  'mlkem768x25519-sha256',
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp521',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group14-sha256',
] as const;

/** A wire name from `KEX_NAMES`. */
export type KexName = (typeof KEX_NAMES)[number];

/** The pseudo method of SessionConfig.noSecurity: no key exchange, no keys. Not in `kexMethods`. */
export const KEX_NONE = 'none';

/** Implemented methods by wire name; holds exactly the names of `KEX_NAMES`. */
export const kexMethods: ReadonlyMap<string, KexMethod> = new Map<string, KexMethod>(
  [
    mlkem768x25519Sha256,
    curve25519Sha256,
    curve25519Sha256Libssh,
    ecdhSha2Nistp521,
    ecdhSha2Nistp384,
    ecdhSha2Nistp256,
    diffieHellmanGroup16Sha512,
    diffieHellmanGroup14Sha256,
  ].map((method) => [method.name, method]),
);

/**
 * True for names negotiation may choose as kex: every implemented method, and `none`.
 * @param name - a kex wire name
 */
export function isKnownKex(name: string): boolean {
  return kexMethods.has(name) || name === KEX_NONE;
}
