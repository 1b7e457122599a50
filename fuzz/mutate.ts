/**
 * Mutations of a recorded message sequence: bit flips, truncation, extension, length fields
 * pushed to the extremes, random message numbers, random bodies, repetition, reordering, dropping
 * and messages spliced in from elsewhere in the recording. Each applied mutation is described, so a
 * failing case can be read without replaying it.
 */
import type { FuzzRandom } from './random.js';

/** A mutated sequence: the messages, which of them were produced by a mutation, and how. */
export interface MutatedSequence {
  messages: Uint8Array[];
  /** Per message: true when a mutation produced or changed it. */
  mutated: boolean[];
  /** One line per mutation applied. */
  description: string[];
}

/** uint32 values that break length arithmetic: zero, one, the signed and unsigned limits. */
const EXTREMES = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff, 0x0001_0000, 35_000];

/** Message numbers worth trying: every range RFC 4250 §4.1 assigns, their edges, and beyond. */
const MESSAGE_NUMBERS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 19, 20, 21, 22, 29, 30, 31, 34, 49, 50, 51, 52, 53, 59, 60, 61, 62, 79, 80, 81, 82, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 127, 128, 192, 200, 255];

type Operator = (random: FuzzRandom, m: Uint8Array, all: readonly Uint8Array[]) => { bytes: Uint8Array; what: string };

/** Single-message operators, each a function of the message and the whole recording. */
const operators: Record<string, Operator> = {
  flipBits(random, m) {
    const out = m.slice();
    const flips = 1 + random.below(4);
    for (let i = 0; i < flips && out.length > 0; i++) out[random.below(out.length)]! ^= 1 << random.below(8);
    return { bytes: out, what: `${flips} bit flips` };
  },
  truncate(random, m) {
    const n = random.below(m.length);
    return { bytes: m.slice(0, n), what: `truncated to ${n} of ${m.length}` };
  },
  extend(random, m) {
    const extra = random.chance(0.8) ? 1 + random.below(16) : 1 + random.below(4096);
    return { bytes: Uint8Array.from([...m, ...random.bytes(extra)]), what: `${extra} bytes appended` };
  },
  lengthExtreme(random, m) {
    const out = m.slice();
    if (out.length < 5) return { bytes: out, what: 'too short for a length field' };
    const at = 1 + random.below(out.length - 4);
    const value = random.chance(0.75) ? random.pick(EXTREMES) : (new DataView(out.buffer).getUint32(at) + random.pick([1, -1, 2, -2])) >>> 0;
    new DataView(out.buffer).setUint32(at, value);
    return { bytes: out, what: `uint32 at ${at} set to ${value}` };
  },
  messageNumber(random, m) {
    const out = m.length > 0 ? m.slice() : new Uint8Array(1);
    const type = random.chance(0.8) ? random.pick(MESSAGE_NUMBERS) : random.below(256);
    out[0] = type;
    return { bytes: out, what: `message number ${m[0]} -> ${type}` };
  },
  randomBody(random, m) {
    const n = random.below(64);
    return { bytes: Uint8Array.from([m[0] ?? 0, ...random.bytes(n)]), what: `body replaced by ${n} random bytes` };
  },
  splice(random, m, all) {
    const other = random.pick(all);
    const cut = random.below(m.length + 1);
    const from = random.below(other.length + 1);
    return { bytes: Uint8Array.from([...m.subarray(0, cut), ...other.subarray(from)]), what: `spliced at ${cut} with message ${other[0]} from ${from}` };
  },
};
const operatorNames = Object.keys(operators);

/**
 * Applies 1 to `maxMutations` mutations to `messages` (a fresh array; the input is not modified).
 * @param random the case's seeded source
 * @param messages the recorded sequence
 * @param maxMutations upper bound of mutations in this case
 */
export function mutateSequence(random: FuzzRandom, messages: readonly Uint8Array[], maxMutations = 4): MutatedSequence {
  const out = messages.map((m) => m);
  const mutated = messages.map(() => false);
  const description: string[] = [];
  const count = 1 + random.below(maxMutations);
  for (let i = 0; i < count && out.length > 0; i++) {
    const at = random.below(out.length);
    const kind = random.below(10);
    if (kind < 7) {
      const name = random.pick(operatorNames);
      const { bytes, what } = operators[name]!(random, out[at]!, messages);
      out[at] = bytes;
      mutated[at] = true;
      description.push(`#${at} (message ${messages[at]?.[0] ?? '?'}): ${name}, ${what}`);
    } else if (kind === 7) {
      const times = random.chance(0.7) ? 2 : 2 + random.below(200);
      const copies = Array.from({ length: times - 1 }, () => out[at]!);
      out.splice(at + 1, 0, ...copies);
      mutated.splice(at + 1, 0, ...copies.map(() => true));
      description.push(`#${at} (message ${out[at]![0]}): repeated ${times} times`);
    } else if (kind === 8) {
      const to = random.below(out.length);
      const [m] = out.splice(at, 1);
      mutated.splice(at, 1);
      out.splice(to, 0, m!);
      mutated.splice(to, 0, true);
      description.push(`#${at} (message ${m![0]}): moved to #${to}`);
    } else {
      const [m] = out.splice(at, 1);
      mutated.splice(at, 1);
      // A dropped message changes what its successor means: count the successor as mutated.
      if (at < mutated.length) mutated[at] = true;
      description.push(`#${at} (message ${m![0]}): dropped`);
    }
  }
  return { messages: out, mutated, description };
}
