/**
 * Byte comparison whose time depends only on the length, for secrets and MACs, in every runtime
 * (node:crypto's timingSafeEqual exists only on Node).
 */

/**
 * Whether `a` and `b` hold the same bytes, looking at every byte whatever the first difference.
 * @param a - bytes
 * @param b - bytes
 * @returns true when equal; false at once when the lengths differ (lengths are not secret)
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
