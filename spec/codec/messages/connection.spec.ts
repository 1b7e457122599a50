import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError } from '../../../lib/errors.js';
import { decode, encode } from '../../../lib/codec/schema.js';
import * as M from '../../../lib/codec/messages/connection.js';
import { seededRandom } from '../../mux/pair.js';

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

function randomBytes(random: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

describe('connection messages', () => {
  it('declares messages 80-82 and 90-100 with their RFC 4254 numbers', () => {
    expect(M.connectionMessages.map((m) => m.type)).toEqual([80, 81, 82, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
  });

  it.each([
    [M.ChannelOpen, { channelType: 'session', senderChannel: 7, initialWindowSize: 1 << 21, maximumPacketSize: 32768, data: new Uint8Array(0) }],
    [M.ChannelRequest, { recipientChannel: 3, requestType: 'exec', wantReply: true, data: new Uint8Array([0, 0, 0, 2, 108, 115]) }],
    [M.ChannelOpenFailure, { recipientChannel: 1, reasonCode: 4, description: 'Too many', languageTag: '' }],
    [M.GlobalRequest, { requestName: 'tcpip-forward', wantReply: true, data: new Uint8Array([1, 2, 3]) }],
  ] as const)('round-trips %s through the generic codec', (schema, value) => {
    const bytes = encode(schema as never, value as never);
    expect(bytes[0]).toBe(schema.type);
    expect(decode(schema as never, bytes)).toEqual(value);
  });
});

describe('hand-written CHANNEL_DATA, CHANNEL_EXTENDED_DATA and WINDOW_ADJUST', () => {
  const random = seededRandom(42);
  const sizes = [0, 1, 2, 100, 4096, 32768, 65537];

  it.each(sizes)('encodeChannelData matches the schema codec for %i bytes', (n) => {
    const data = randomBytes(random, n);
    const recipientChannel = Math.floor(random() * 2 ** 32);
    const fast = M.encodeChannelData(recipientChannel, data);
    expect(same(fast, encode(M.ChannelData, { recipientChannel, data }))).toBe(true);
    const [ours, theirs] = [M.decodeChannelData(fast), decode(M.ChannelData, fast)];
    expect(ours.recipientChannel).toBe(theirs.recipientChannel);
    expect(same(ours.data, theirs.data)).toBe(true);
  });

  it.each(sizes)('encodeChannelExtendedData matches the schema codec for %i bytes', (n) => {
    const data = randomBytes(random, n);
    const fast = M.encodeChannelExtendedData(0xfffffffe, 1, data);
    expect(same(fast, encode(M.ChannelExtendedData, { recipientChannel: 0xfffffffe, dataTypeCode: 1, data }))).toBe(true);
    const [ours, theirs] = [M.decodeChannelExtendedData(fast), decode(M.ChannelExtendedData, fast)];
    expect([ours.recipientChannel, ours.dataTypeCode]).toEqual([theirs.recipientChannel, theirs.dataTypeCode]);
    expect(same(ours.data, theirs.data)).toBe(true);
  });

  it('sealChannelData fills the header of data written in place', () => {
    const packet = new Uint8Array(9 + 10);
    packet.set([1, 2, 3], 9);
    const sealed = M.sealChannelData(packet, 5, 3);
    expect(sealed).toEqual(encode(M.ChannelData, { recipientChannel: 5, data: new Uint8Array([1, 2, 3]) }));
  });

  it('encodeChannelWindowAdjust matches the schema codec', () => {
    const fast = M.encodeChannelWindowAdjust(9, 0xffffffff);
    expect(fast).toEqual(encode(M.ChannelWindowAdjust, { recipientChannel: 9, bytesToAdd: 0xffffffff }));
    expect(M.decodeChannelWindowAdjust(fast)).toEqual({ recipientChannel: 9, bytesToAdd: 0xffffffff });
  });

  it('decodes data as a view into the payload, not a copy', () => {
    const payload = M.encodeChannelData(1, new Uint8Array([7, 8]));
    const { data } = M.decodeChannelData(payload);
    expect(data.buffer).toBe(payload.buffer);
  });

  it.each([
    ['truncated recipient', () => M.decodeChannelData(new Uint8Array([94, 0, 0])), /ChannelData.recipientChannel.*offset 1/],
    ['truncated length', () => M.decodeChannelData(new Uint8Array([94, 0, 0, 0, 1, 0])), /ChannelData.data.*offset 5/],
    ['length beyond payload', () => M.decodeChannelData(new Uint8Array([94, 0, 0, 0, 1, 0, 0, 0, 5, 1])), /length 5 does not match the 1 bytes/],
    ['trailing bytes', () => M.decodeChannelData(new Uint8Array([94, 0, 0, 0, 1, 0, 0, 0, 0, 1])), /length 0 does not match the 1 bytes/],
    ['short extended data', () => M.decodeChannelExtendedData(new Uint8Array([95, 0, 0, 0, 1, 0, 0, 0, 1])), /ChannelExtendedData.data.*offset 9/],
    ['window adjust trailing', () => M.decodeChannelWindowAdjust(new Uint8Array([93, 0, 0, 0, 1, 0, 0, 0, 1, 0])), /1 trailing bytes at offset 9/],
    ['window adjust short', () => M.decodeChannelWindowAdjust(new Uint8Array([93, 0, 0, 0, 1, 0])), /bytesToAdd.*offset 5/],
  ])('rejects %s with a ProtocolError naming field and offset', (_name, run, message) => {
    expect(run).toThrow(ProtocolError);
    expect(run).toThrow(message);
  });
});

describe('hand-written CHANNEL_OPEN and CHANNEL_OPEN_CONFIRMATION', () => {
  const uint32 = fc.integer({ min: 0, max: 0xffffffff });
  const bytes = fc.uint8Array({ maxLength: 40 });
  // ASCII takes the hand-written path; other text, and types past 64 characters, the generic one.
  const channelType = fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('session', 'direct-tcpip', 'auth-agent@openssh.com', 'é-type', ''));

  it('encode and decode CHANNEL_OPEN exactly as the schema codec does', () => {
    fc.assert(
      fc.property(channelType, uint32, uint32, uint32, bytes, (type, senderChannel, initialWindowSize, maximumPacketSize, data) => {
        const value = { channelType: type, senderChannel, initialWindowSize, maximumPacketSize, data };
        const fast = M.encodeChannelOpen(value);
        expect(same(fast, encode(M.ChannelOpen, value))).toBe(true);
        expect(M.decodeChannelOpen(fast)).toEqual(decode(M.ChannelOpen, fast));
      }),
    );
  });

  it('encode and decode CHANNEL_OPEN_CONFIRMATION exactly as the schema codec does', () => {
    fc.assert(
      fc.property(uint32, uint32, uint32, uint32, bytes, (recipientChannel, senderChannel, initialWindowSize, maximumPacketSize, data) => {
        const value = { recipientChannel, senderChannel, initialWindowSize, maximumPacketSize, data };
        const fast = M.encodeChannelOpenConfirmation(value);
        expect(same(fast, encode(M.ChannelOpenConfirmation, value))).toBe(true);
        expect(M.decodeChannelOpenConfirmation(fast)).toEqual(decode(M.ChannelOpenConfirmation, fast));
      }),
    );
  });

  it('decodes any byte string as the schema codec does: the same value or the same error', () => {
    const outcome = (run: () => unknown): unknown => {
      try {
        return run();
      } catch (error) {
        return error instanceof ProtocolError ? `ProtocolError: ${error.message}` : error;
      }
    };
    fc.assert(
      fc.property(fc.constantFrom(90, 91), fc.uint8Array({ maxLength: 40 }), (type, body) => {
        const payload = new Uint8Array([type, ...body]);
        const [fast, generic] =
          type === 90 ? [M.decodeChannelOpen, (p: Uint8Array) => decode(M.ChannelOpen, p)] : [M.decodeChannelOpenConfirmation, (p: Uint8Array) => decode(M.ChannelOpenConfirmation, p)];
        expect(outcome(() => fast(payload))).toEqual(outcome(() => generic(payload)));
      }),
    );
  });

  it.each([
    ['a truncated open', () => M.decodeChannelOpen(new Uint8Array([90, 0, 0, 0, 7, 115])), /ChannelOpen.channelType/],
    ['an open cut after its type', () => M.decodeChannelOpen(new Uint8Array([90, 0, 0, 0, 1, 115, 0, 0])), /ChannelOpen.senderChannel/],
    ['a type that is not UTF-8', () => M.decodeChannelOpen(new Uint8Array([90, 0, 0, 0, 1, 0xff, ...new Uint8Array(12)])), /invalid UTF-8/],
    ['a short confirmation', () => M.decodeChannelOpenConfirmation(new Uint8Array([91, 0, 0, 0, 1, 0, 0])), /ChannelOpenConfirmation.senderChannel/],
  ])('rejects %s with a ProtocolError naming the field', (_name, run, message) => {
    expect(run).toThrow(ProtocolError);
    expect(run).toThrow(message);
  });
});
