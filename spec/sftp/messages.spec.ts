import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decode } from '../../lib/codec/schema.js';
import { ProtocolError } from '../../lib/errors.js';
import { SftpAttributes } from '../../lib/sftp/attributes.js';
import * as M from '../../lib/sftp/messages.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = fc.string({ maxLength: 40 });
const attributes = fc
  .record(
    {
      size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      ids: fc.tuple(u32, u32),
      mode: u32,
      times: fc.tuple(u32, u32),
      extended: fc.array(fc.tuple(text, fc.uint8Array({ maxLength: 20 })), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  )
  .map(({ size, ids, mode, times, extended }) => {
    const init = new SftpAttributes({ size, mode });
    if (ids) [init.uid, init.gid] = ids;
    if (times) [init.atime, init.mtime] = times;
    if (extended && extended.length > 0) init.extended = new Map(extended);
    return init;
  });

/** Strips the frame and checks its length field. */
function payloadOf(packet: Uint8Array): Uint8Array {
  expect(new DataView(packet.buffer, packet.byteOffset).getUint32(0)).toBe(packet.length - 4);
  return packet.subarray(4);
}

describe('SFTP packet codec', () => {
  it('round-trips every request and response type', () => {
    const cases = [
      fc.record({ version: u32, extensions: fc.array(fc.tuple(text, text), { maxLength: 4 }).map((p) => new Map(p)) }).map((v) => [M.Init, v] as const),
      fc.record({ version: u32, extensions: fc.array(fc.tuple(text, text), { maxLength: 4 }).map((p) => new Map(p)) }).map((v) => [M.Version, v] as const),
      fc.record({ requestId: u32, filename: text, pflags: u32, attrs: attributes }).map((v) => [M.Open, v] as const),
      fc.record({ requestId: u32, handle: fc.uint8Array({ maxLength: 256 }), offset: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), len: u32 }).map((v) => [M.Read, v] as const),
      fc.record({ requestId: u32, handle: fc.uint8Array({ maxLength: 16 }), offset: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), data: fc.uint8Array({ maxLength: 500 }) }).map((v) => [M.Write, v] as const),
      fc.record({ requestId: u32, path: text, attrs: attributes }).map((v) => [M.Setstat, v] as const),
      fc.record({ requestId: u32, oldpath: text, newpath: text }).map((v) => [M.Rename, v] as const),
      fc.record({ requestId: u32, linkpath: text, targetpath: text }).map((v) => [M.Symlink, v] as const),
      fc.record({ requestId: u32, code: u32, errorMessage: text, languageTag: text }).map((v) => [M.Status, v] as const),
      fc.record({ requestId: u32, data: fc.uint8Array({ maxLength: 500 }) }).map((v) => [M.Data, v] as const),
      fc
        .record({ requestId: u32, names: fc.array(fc.record({ filename: text, longname: text, attributes }), { maxLength: 5 }) })
        .map((v) => [M.Name, v] as const),
      fc.record({ requestId: u32, attrs: attributes }).map((v) => [M.Attrs, v] as const),
      fc.record({ requestId: u32, extendedRequest: text, data: fc.uint8Array({ maxLength: 50 }) }).map((v) => [M.Extended, v] as const),
    ];
    fc.assert(
      fc.property(fc.oneof(...cases), ([schema, value]) => {
        const packet = M.encodePacket(schema as typeof M.Open, value as never);
        expect(decode(schema as typeof M.Open, payloadOf(packet))).toEqual(value);
      }),
    );
  });

  it('keeps a leading U+FEFF in paths and extension data', () => {
    const name = '\uFEFFreport.txt';
    expect(decode(M.Stat, payloadOf(M.encodePacket(M.Stat, { requestId: 1, path: name })))).toEqual({ requestId: 1, path: name });
    const extensions = new Map([['x@example.com', '\uFEFF1']]);
    expect(decode(M.Version, payloadOf(M.encodePacket(M.Version, { version: 3, extensions }))).extensions).toEqual(extensions);
  });

  it('fails with a clear error on any truncation of a valid packet', () => {
    fc.assert(
      fc.property(fc.record({ requestId: u32, filename: text, pflags: u32, attrs: attributes }), fc.nat(), (value, cut) => {
        const payload = payloadOf(M.encodePacket(M.Open, value));
        const truncated = payload.subarray(0, cut % payload.length);
        expect(() => decode(M.Open, truncated)).toThrow(ProtocolError);
      }),
    );
  });

  it('names the message and field of a bad packet', () => {
    const payload = payloadOf(M.encodePacket(M.Read, { requestId: 1, handle: new Uint8Array(4), offset: 0n, len: 10 }));
    expect(() => decode(M.Read, payload.subarray(0, payload.length - 2))).toThrow(/Read\.len: unexpected end of payload/);
    expect(() => decode(M.Name, new Uint8Array([104, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]))).toThrow(/4294967295 names cannot fit/);
    expect(() => decode(M.Attrs, new Uint8Array([105, 0, 0, 0, 1, 0, 0, 0, 0x40]))).toThrow(/unknown attribute flags 0x40/);
  });

  it('refuses attributes with only one of a uid/gid or atime/mtime pair', () => {
    expect(() => M.encodePacket(M.Setstat, { requestId: 1, path: '/x', attrs: new SftpAttributes({ uid: 1 }) })).toThrow(/both uid and gid/);
    expect(() => M.encodePacket(M.Setstat, { requestId: 1, path: '/x', attrs: new SftpAttributes({ mtime: 1 }) })).toThrow(/both atime and mtime/);
  });
});
