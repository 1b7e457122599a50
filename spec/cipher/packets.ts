/**
 * Builds and reads binary packets the way RFC 4253 §6 lays them out, for the cipher specs:
 * packet_length, padding_length (at least 4), payload, random padding, then room for the tag.
 */
import { getCiphers, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { DirectionKeys, OpeningKey, SealingKey } from '../../lib/cipher/types.js';

/** RFC 4253 §6: the packet `seal` expects, with `tagLength` spare bytes at the end. */
export function buildPacket(payload: Uint8Array, sealing: SealingKey, extraPadding = 0): Uint8Array {
  const { blockSize, lengthExcludedFromPadding, tagLength } = sealing;
  const unpadded = (lengthExcludedFromPadding ? 0 : 4) + 1 + payload.length;
  let paddingLength = blockSize - (unpadded % blockSize);
  if (paddingLength < 4) paddingLength += blockSize;
  paddingLength += extraPadding * blockSize;
  const packetLength = 1 + payload.length + paddingLength;
  const packet = new Uint8Array(4 + packetLength + tagLength);
  new DataView(packet.buffer).setUint32(0, packetLength);
  packet[4] = paddingLength;
  packet.set(payload, 5);
  packet.set(randomBytes(paddingLength), 5 + payload.length);
  return packet;
}

/** Reads one packet from the front of `wire` as the packet stage would; returns the payload and the bytes used. */
export function readPacket(opening: OpeningKey, sequence: number, wire: Uint8Array): { payload: Uint8Array; used: number } {
  const packetLength = opening.decryptLength(sequence, wire.subarray(0, opening.lengthPrefixBytes));
  const used = 4 + packetLength + opening.tagLength;
  if (used > wire.length) throw new Error(`Packet needs ${used} bytes, wire has ${wire.length}`);
  const body = opening.open(sequence, wire.subarray(0, used));
  expect(body.length).toBe(packetLength);
  const paddingLength = body[0]!;
  expect(paddingLength).toBeGreaterThanOrEqual(4);
  return { payload: body.subarray(1, packetLength - paddingLength), used };
}

/** True where node:crypto runs chacha20-poly1305 natively (Bun's does not, so its Node suite uses the portable one). */
export const nativeChaCha = getCiphers().includes('chacha20') && getCiphers().includes('chacha20-poly1305');

/** Random key material long enough for any of our ciphers and MACs. */
export function randomKeys(): DirectionKeys {
  return { iv: randomBytes(16), encryptionKey: randomBytes(64), integrityKey: randomBytes(64) };
}

/** An independent copy, since the strategies may not be handed the same buffers twice in real use. */
export function copyKeys(keys: DirectionKeys): DirectionKeys {
  return { iv: keys.iv.slice(), encryptionKey: keys.encryptionKey.slice(), integrityKey: keys.integrityKey.slice() };
}

/**
 * `sealPieces` against `seal` of a second key with the same keys: for each payload size, the
 * pieces join to the bytes `seal` gives, none shares the packet's buffer, and the packet is left as
 * it was. `offered`: whether the key should have `sealPieces` (node:crypto's ciphers do; the
 * portable ones encrypt in place into the packet).
 */
export function expectPiecesMatchSeal(options: { inPieces: SealingKey; whole: SealingKey; offered: boolean; sizes: number[] }): void {
  const { inPieces, whole, offered, sizes } = options;
  expect(inPieces.sealPieces !== undefined).toBe(offered);
  if (inPieces.sealPieces === undefined) return;
  for (const [sequence, size] of sizes.entries()) {
    const packet = buildPacket(randomBytes(size), inPieces);
    const before = packet.slice();
    const pieces = inPieces.sealPieces(sequence, packet);
    expect(Buffer.from(packet).equals(Buffer.from(before))).toBe(true);
    for (const piece of pieces) expect(piece.buffer).not.toBe(packet.buffer);
    expect(Buffer.concat(pieces).equals(Buffer.from(whole.seal(sequence, packet)))).toBe(true);
  }
}
