/**
 * Compression method names this library implements (RFC 4253 §6.2 `none` and `zlib`, OpenSSH
 * PROTOCOL §2 `zlib@openssh.com`) and when each one starts. Negotiation picks among them; the
 * packet stages act on the choice.
 */

/** Wire names of the compression methods we implement, in no particular order. */
export const COMPRESSION_NAMES = ['none', 'zlib@openssh.com', 'zlib'] as const;

/** One of `COMPRESSION_NAMES`. */
export type CompressionName = (typeof COMPRESSION_NAMES)[number];

const known: ReadonlySet<string> = new Set(COMPRESSION_NAMES);

/**
 * True for a compression method we implement.
 * @param name - a wire name from a KEXINIT
 * @returns whether negotiation may choose it
 */
export function isKnownCompression(name: string): name is CompressionName {
  return known.has(name);
}

/**
 * When a negotiated method compresses: never, from NEWKEYS on (`zlib`, RFC 4253 §6.2), or from
 * the end of user authentication on (`zlib@openssh.com`, OpenSSH PROTOCOL §2).
 * @param name - a negotiated compression name
 * @returns `never`, `newKeys` or `authenticated`
 */
export function compressionStart(name: string): 'never' | 'newKeys' | 'authenticated' {
  if (name === 'zlib') return 'newKeys';
  if (name === 'zlib@openssh.com') return 'authenticated';
  return 'never';
}
