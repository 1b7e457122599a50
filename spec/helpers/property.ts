/**
 * fast-check settings shared by the property specs: a fixed seed so every run (and CI) checks the
 * same cases, overridable with PROPERTY_SEED to explore; fast-check prints the seed and the path of
 * the shrunk counterexample on failure, which PROPERTY_SEED (and the reported path) replays.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { ProtocolError } from '../../lib/errors.js';

/** The seed every property starts from; PROPERTY_SEED=<n> picks another. */
export const propertySeed = process.env.PROPERTY_SEED === undefined ? 0x55_5348 : Number(process.env.PROPERTY_SEED);

/**
 * Parameters for `fc.assert`: the shared seed and a run count.
 * @param numRuns cases per property (PROPERTY_RUNS multiplies it for a longer local pass)
 */
export function propertyParameters<T>(numRuns = 200): fc.Parameters<T> {
  const scale = Number(process.env.PROPERTY_RUNS_SCALE ?? 1);
  return { seed: propertySeed, numRuns: Math.max(1, Math.round(numRuns * scale)), endOnFailure: false };
}

/**
 * Runs `decode` and passes when it returns or throws a ProtocolError whose message matches
 * `names` (the message or field it names) and states an offset or a value; anything else fails.
 */
export function expectValueOrProtocolError(decode: () => unknown, names: RegExp): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw new Error(`Decoder threw ${String(error)} instead of a ProtocolError`, { cause: error });
    expect(error.message).toMatch(names);
  }
}

/** Bytes: a valid encoding mutated by one of truncation, a bit flip, an inserted byte or a length pushed to an extreme. */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, b.length === 0 ? 0 : n % b.length)),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([b, n, bit]) => {
      const out = b.slice();
      if (out.length > 0) out[n % out.length]! ^= 1 << bit;
      return out;
    }),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, n, v]) => {
      const at = n % (b.length + 1);
      return Uint8Array.from([...b.subarray(0, at), v, ...b.subarray(at)]);
    }),
    fc.tuple(valid, fc.nat(), fc.constantFrom(0, 0x7fffffff, 0x80000000, 0xffffffff)).map(([b, n, v]) => {
      const out = b.slice();
      if (out.length >= 4) new DataView(out.buffer).setUint32(n % (out.length - 3), v);
      return out;
    }),
  );
}

/** Text for RFC 4251 `string` fields: any code points, now and then led by U+FEFF (a decoder must keep it). */
export const sshText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }).map((s) => `\uFEFF${s}`) },
);
