import { describe, expect, it } from 'vitest';
import { DerReader, DerTag, derElement, derOid, derSmallInteger } from '../../../lib/keys/formats/der.js';

describe('DerReader', () => {
  it('reads what the writer writes, long lengths and OIDs included', () => {
    const big = new Uint8Array(300).fill(7);
    const der = derElement(DerTag.sequence, derOid('1.2.840.113549.1.5.13'), derSmallInteger(100_000), derElement(DerTag.octetString, big));
    const r = new DerReader(der, 'test structure').sequence('outer');
    expect(r.oid('oid')).toBe('1.2.840.113549.1.5.13');
    expect(r.smallInteger('count')).toBe(100_000);
    expect(r.expect(DerTag.octetString, 'data')).toEqual(big);
    r.end();
  });

  it('encodes small integers with a sign byte when the high bit is set', () => {
    expect([...derSmallInteger(0x80)]).toEqual([0x02, 0x02, 0x00, 0x80]);
    expect([...derSmallInteger(2048)]).toEqual([0x02, 0x02, 0x08, 0x00]);
  });

  it.each([
    [[0x30, 0x05, 0x02], /element of 5 bytes at offset 0 exceeds the 1 bytes left/],
    [[0x30, 0x85, 1, 1, 1, 1, 1], /unsupported length encoding/],
    [[0x30], /unexpected end at offset 0/],
    [[0x02, 0x01, 0x00], /outer has tag 0x2, expected 0x30/],
  ])('refuses %j with a message naming the structure', (bytes, message) => {
    const reader = new DerReader(Uint8Array.from(bytes), 'test structure');
    expect(() => reader.sequence('outer')).toThrow(message);
    expect(() => new DerReader(Uint8Array.from(bytes), 'test structure').sequence('outer')).toThrow(/^Invalid test structure: /);
  });
});
