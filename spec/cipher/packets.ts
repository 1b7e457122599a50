/**
 * Builds and reads binary packets the way RFC 4253 §6 lays them out, for the cipher specs:
 * packet_length, padding_length (at least 4), payload, random padding, then room for the tag.
 */
import { randomBytes } from 'node:crypto';
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

/** Random key material long enough for any of our ciphers and MACs. */
export function randomKeys(): DirectionKeys {
  return { iv: randomBytes(16), encryptionKey: randomBytes(64), integrityKey: randomBytes(64) };
}

/** An independent copy, since the strategies may not be handed the same buffers twice in real use. */
export function copyKeys(keys: DirectionKeys): DirectionKeys {
  return { iv: keys.iv.slice(), encryptionKey: keys.encryptionKey.slice(), integrityKey: keys.integrityKey.slice() };
}
