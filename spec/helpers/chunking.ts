/**
 * Chunk-boundary replay: the same byte stream cut at every offset, then at seeded random offsets.
 * Any parser fed from a socket (version exchange, packet reader) must give the same result for
 * every cut; these generators produce the cuts and a stream that replays one of them.
 */
import { createDeterministicRandom } from './random.js';

/**
 * Every two-piece cut of `bytes`, then the whole buffer in one chunk, then one byte per chunk.
 * @param bytes the stream to cut (not modified; chunks are copies)
 * @returns `bytes.length + 1` chunk arrays (just one when the input is shorter than 2 bytes)
 */
export function* everySplit(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let offset = 1; offset < bytes.length; offset++) {
    yield [bytes.slice(0, offset), bytes.slice(offset)];
  }
  yield [bytes.slice()];
  if (bytes.length > 1) yield Array.from(bytes, (b) => Uint8Array.of(b));
}

/** Options of {@link randomSplits}. */
export interface RandomSplitOptions {
  /** Longest chunk; defaults to a size that gives about 8 chunks per cut. */
  maxChunk?: number;
  /** Emit an empty chunk now and then, which a reader must also accept. */
  includeEmpty?: boolean;
}

/**
 * `count` reproducible random cuts of `bytes`.
 * @param bytes the stream to cut
 * @param seed seeds the cut positions; equal seeds give equal cuts
 * @param count how many cuts
 * @param options chunk sizes
 * @returns chunk arrays whose concatenation is always `bytes`
 */
export function* randomSplits(
  bytes: Uint8Array,
  seed: string | number,
  count: number,
  options: RandomSplitOptions = {},
): Generator<Uint8Array[]> {
  const random = createDeterministicRandom(`chunking:${seed}`);
  const maxChunk = Math.max(1, options.maxChunk ?? Math.ceil(bytes.length / 4));
  for (let i = 0; i < count; i++) {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (options.includeEmpty && random.below(8) === 0) chunks.push(new Uint8Array(0));
      const size = 1 + random.below(maxChunk);
      chunks.push(bytes.slice(offset, offset + size));
      offset += size;
    }
    yield chunks;
  }
}

/**
 * A readable that replays `chunks` one per pull, then closes.
 * @param chunks the cut to replay
 * @returns a stream with no internal queue, so each chunk is produced only when asked for
 */
export function streamOfChunks(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (index < chunks.length) controller.enqueue(chunks[index++]!);
        else controller.close();
      },
    },
    new CountQueuingStrategy({ highWaterMark: 0 }),
  );
}
