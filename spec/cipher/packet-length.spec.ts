import { describe, expect, it } from 'vitest';
import { MAX_PACKET_LENGTH, checkPacketLength, readUint32, writeUint32 } from '../../lib/cipher/packet-length.js';
import { DisconnectReason, ProtocolError } from '../../lib/errors.js';

describe('checkPacketLength', () => {
  it.each([
    { length: 12, blockSize: 16, excluded: false },
    { length: 16, blockSize: 16, excluded: true },
    { length: 8, blockSize: 8, excluded: true },
    { length: MAX_PACKET_LENGTH, blockSize: 8, excluded: true },
  ])('accepts packet_length $length with block size $blockSize (length excluded: $excluded)', ({ length, blockSize, excluded }) => {
    expect(checkPacketLength(length, blockSize, excluded)).toBe(length);
  });

  it.each([
    { length: 0, blockSize: 8, excluded: true, message: 'Invalid packet_length 0 (allowed 5 to 16777216)' },
    { length: 4, blockSize: 8, excluded: false, message: 'Invalid packet_length 4 (allowed 5 to 16777216)' },
    { length: 0xfffffff0, blockSize: 16, excluded: true, message: 'Invalid packet_length 4294967280 (allowed 5 to 16777216)' },
    { length: 20, blockSize: 16, excluded: false, message: 'Invalid packet_length 20: it plus 4 is not a multiple of the block size 16' },
    { length: 12, blockSize: 16, excluded: true, message: 'Invalid packet_length 12: it is not a multiple of the block size 16' },
  ])('rejects packet_length $length with PROTOCOL_ERROR', ({ length, blockSize, excluded, message }) => {
    let caught: unknown;
    try {
      checkPacketLength(length, blockSize, excluded);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect((caught as ProtocolError).reason).toBe(DisconnectReason.protocolError);
    expect((caught as ProtocolError).message).toBe(message);
  });
});

describe('readUint32 and writeUint32', () => {
  it.each([0, 1, 0x12345678, 0xffffffff])('round-trips %i big-endian', (value) => {
    const bytes = new Uint8Array(6);
    writeUint32(bytes, value, 2);
    expect(Buffer.from(bytes).readUInt32BE(2)).toBe(value);
    expect(readUint32(bytes, 2)).toBe(value);
  });
});
