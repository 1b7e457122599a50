import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SshReader, SshWriter, utf8Decode } from '../../lib/codec/wire.js';
import { decodeExtInfo, encodeExtInfo } from '../../lib/transport/ext-info.js';
import { expectValueOrProtocolError, propertyParameters, sshText } from '../helpers/property.js';

/** One RFC 4251 §5 value with its type, as the writer takes it and the reader gives it back. */
type WireValue =
  | { type: 'byte'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'uint32'; value: number }
  | { type: 'uint64'; value: bigint }
  | { type: 'string'; value: Uint8Array }
  | { type: 'utf8'; value: string }
  | { type: 'nameList'; value: string[] }
  | { type: 'mpint'; value: Uint8Array }
  | { type: 'raw'; value: Uint8Array };

const name = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-@.'), minLength: 1, maxLength: 20 });
/** An mpint magnitude as the reader returns it: no leading zero bytes. */
const magnitude = fc.uint8Array({ maxLength: 40 }).map((b) => {
  let start = 0;
  while (start < b.length && b[start] === 0) start++;
  return b.subarray(start);
});

const wireValue: fc.Arbitrary<WireValue> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'byte' as const, value })),
  fc.boolean().map((value) => ({ type: 'boolean' as const, value })),
  fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ type: 'uint32' as const, value })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ type: 'uint64' as const, value })),
  fc.uint8Array({ maxLength: 300 }).map((value) => ({ type: 'string' as const, value })),
  sshText.map((value) => ({ type: 'utf8' as const, value })),
  fc.array(name, { maxLength: 6 }).map((value) => ({ type: 'nameList' as const, value })),
  magnitude.map((value) => ({ type: 'mpint' as const, value })),
  fc.uint8Array({ maxLength: 20 }).map((value) => ({ type: 'raw' as const, value })),
);

function write(w: SshWriter, v: WireValue): void {
  if (v.type === 'utf8') w.string(v.value);
  else if (v.type === 'raw') w.raw(v.value);
  else (w[v.type] as (value: unknown) => SshWriter)(v.value);
}

function read(r: SshReader, v: WireValue): unknown {
  return v.type === 'raw' ? r.raw(v.value.length) : r[v.type]();
}

const fieldTypes = ['byte', 'boolean', 'uint32', 'uint64', 'string', 'utf8', 'nameList', 'mpint'] as const;

describe('SshReader and SshWriter (properties)', () => {
  it('keep a leading U+FEFF in text, which is the peer\'s text and not a byte-order mark', () => {
    const bytes = new SshWriter().string('\uFEFFpassword').toBytes();
    expect(new SshReader(bytes).utf8()).toBe('\uFEFFpassword');
    expect(utf8Decode(bytes.subarray(4))).toBe('\uFEFFpassword');
    const extensions = new Map([['server-sig-algs', '\uFEFFssh-ed25519']]);
    expect(decodeExtInfo(encodeExtInfo(extensions))).toEqual(extensions);
  });

  it('read back every sequence of values the writer wrote, consuming it exactly', () => {
    fc.assert(
      fc.property(fc.array(wireValue, { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), (values, capacity) => {
        const w = new SshWriter(capacity);
        for (const v of values) write(w, v);
        const r = new SshReader(w.toBytes().slice());
        for (const v of values) {
          const got = read(r, v);
          if (got instanceof Uint8Array) expect([...got]).toEqual([...(v.value as Uint8Array)]);
          else expect(got).toEqual(v.value);
        }
        expect(r.remaining).toBe(0);
        r.end();
      }),
      propertyParameters(300),
    );
  });

  it('write an mpint with leading zeros as its minimal two-complement form', () => {
    fc.assert(
      fc.property(fc.nat({ max: 4 }), magnitude, (zeros, m) => {
        const encoded = new SshWriter().mpint(Uint8Array.from([...new Uint8Array(zeros), ...m])).toBytes();
        const body = encoded.subarray(4);
        expect(new DataView(encoded.buffer, encoded.byteOffset).getUint32(0)).toBe(body.length);
        if (body.length > 0) expect(body[0] === 0 ? (body[1] ?? 0) & 0x80 : 1).not.toBe(0);
        expect([...new SshReader(encoded).mpint()]).toEqual([...m]);
      }),
      propertyParameters(),
    );
  });

  it('read arbitrary bytes as any field sequence to values or a ProtocolError naming the field and offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.constantFrom(...fieldTypes), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (bytes, types, requireEnd) => {
          const r = new SshReader(bytes);
          expectValueOrProtocolError(() => {
            for (const [i, type] of types.entries()) {
              r.context = `Fuzz.field${i}`;
              r[type]();
            }
            r.context = 'Fuzz';
            if (requireEnd) r.end();
          }, /^Fuzz(\.field\d+)?: .*offset \d+/);
          expect(r.offset).toBeLessThanOrEqual(bytes.length);
        },
      ),
      propertyParameters(500),
    );
  });

  it('refuse invalid UTF-8 and negative mpints with the offset of the field', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 0x80, max: 0xff }), (prefix, bad) => {
        const raw = new SshWriter().raw(prefix).string(Uint8Array.of(bad)).toBytes();
        const r = new SshReader(raw, prefix.length);
        r.context = 'Fuzz.text';
        // A lone byte >= 0x80 is never valid UTF-8, and as an mpint it is negative.
        expect(() => r.utf8()).toThrow(`Fuzz.text: invalid UTF-8 at offset ${prefix.length}`);
        const m = new SshReader(raw, prefix.length);
        m.context = 'Fuzz.number';
        expect(() => m.mpint()).toThrow(`Fuzz.number: negative mpint at offset ${prefix.length}`);
      }),
      propertyParameters(),
    );
  });
});
