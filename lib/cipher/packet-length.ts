/**
 * The packet_length checks every opening key applies before the packet stage reads on (RFC 4253
 * §6, §6.1), the sequence-number encoding the MACs and nonces share, and the MAC_ERROR every
 * opening key raises for a bad tag, whatever its backend. Owns no keys and no framing; the packet stage still checks padding_length and the payload it slices out.
 */
import { DisconnectReason, ProtocolError, SshError } from '../errors.js';

/**
 * Largest `packet_length` any opening key accepts: a sanity bound (RFC 4253 §6.1 leaves the limit
 * to us) that stops a garbled length from making the reader wait for gigabytes. The configurable
 * limit (`maxPacketLength`, 256 KiB + 1 KiB by default) is applied by the packet reader and must
 * stay at or below this.
 */
export const MAX_PACKET_LENGTH = 16 * 1024 * 1024;

/** RFC 4253 §6: a padding_length byte and at least four bytes of padding. */
const MIN_PACKET_LENGTH = 5;

/**
 * Validates a `packet_length` read from the wire (RFC 4253 §6). A length the peer cannot have
 * produced is rejected before the reader waits for its bytes.
 * @param packetLength the decoded uint32
 * @param blockSize the alignment the sender had to meet
 * @param lengthExcluded true when the 4-byte length is outside the alignment (EtM, AEAD)
 * @param cleartext true while no cipher protects the direction: the Go edition of Dev Tunnels SSH
 *   then aligns `packet_length` alone rather than `packet_length + 4`. Alignment only matters to a
 *   block cipher, so either form is accepted there (ARCHITECTURE.md, "Peer quirks"); once a cipher
 *   is in place the RFC's rule holds without exception.
 * @throws ProtocolError (PROTOCOL_ERROR) naming the length
 */
export function checkPacketLength(packetLength: number, blockSize: number, lengthExcluded: boolean, cleartext = false): number {
  if (packetLength < MIN_PACKET_LENGTH || packetLength > MAX_PACKET_LENGTH) {
    throw new ProtocolError(
      `Invalid packet_length ${packetLength} (allowed ${MIN_PACKET_LENGTH} to ${MAX_PACKET_LENGTH})`,
      DisconnectReason.protocolError,
    );
  }
  const aligned = lengthExcluded ? packetLength : packetLength + 4;
  if (aligned % blockSize !== 0 && !(cleartext && packetLength % blockSize === 0)) {
    throw new ProtocolError(
      `Invalid packet_length ${packetLength}: ${lengthExcluded ? 'it' : 'it plus 4'} is not a multiple of the block size ${blockSize}`,
      DisconnectReason.protocolError,
    );
  }
  return packetLength;
}

/** Reads the big-endian uint32 at the start of `bytes` without allocating a DataView. */
export function readUint32(bytes: Uint8Array, offset = 0): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** Writes `value` as a big-endian uint32 at `offset` (sequence numbers wrap at 2^32, RFC 4253 §6.4). */
export function writeUint32(bytes: Uint8Array, value: number, offset = 0): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/**
 * Checks the buffer handed to `seal` against its own packet_length: an inconsistent packet is a
 * bug in the packet stage, and sealing it would corrupt the cipher state for every later packet.
 * @returns the packet_length
 */
export function sealedPacketLength(packet: Uint8Array, tagLength: number, alignment: { blockSize: number; lengthExcluded: boolean }): number {
  const packetLength = readUint32(packet);
  const aligned = alignment.lengthExcluded ? packetLength : packetLength + 4;
  if (packet.length !== 4 + packetLength + tagLength || aligned % alignment.blockSize !== 0) {
    throw new SshError(
      `Cannot seal a packet of ${packet.length} bytes with packet_length ${packetLength}, tag ${tagLength} and block size ${alignment.blockSize}`,
    );
  }
  return packetLength;
}

/** Throws when a destroyed key is used again: its material is gone and must not be replaced by zeros. */
/**
 * RFC 4253 §6: a packet sealed into pieces (`SealingKey.sealPieces`: length, ciphertext, tag) laid
 * end to end over `packet`, for ciphers whose `seal` is their `sealPieces` written in place.
 */
export function writePieces(packet: Uint8Array, pieces: readonly Uint8Array[]): Uint8Array {
  let at = 0;
  for (const piece of pieces) {
    packet.set(piece, at);
    at += piece.length;
  }
  return packet;
}

export function assertLive(destroyed: boolean, what: string): void {
  if (destroyed) throw new SshError(`${what} used after destroy`);
}

/** RFC 4253 §6.4: the error for a packet whose MAC (or AEAD tag, `what`) does not verify. */
export function badMac(sequence: number, what = 'MAC', options?: ErrorOptions): ProtocolError {
  return new ProtocolError(`Bad ${what} on packet ${sequence}`, DisconnectReason.macError, options);
}
