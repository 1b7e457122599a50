import { describe, expect, it } from 'vitest';
import { everySplit, randomSplits, streamOfChunks } from './chunking.js';
import { concatBytes, readAll } from './pipes.js';
import { randomBytes } from './random.js';

describe('everySplit', () => {
  it('cuts at every offset, then whole, then byte by byte', () => {
    const splits = [...everySplit(Uint8Array.of(1, 2, 3))];
    expect(splits).toEqual([
      [Uint8Array.of(1), Uint8Array.of(2, 3)],
      [Uint8Array.of(1, 2), Uint8Array.of(3)],
      [Uint8Array.of(1, 2, 3)],
      [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)],
    ]);
  });

  it.each([0, 1, 2, 50])('rebuilds the input from every cut of %i bytes', (length) => {
    const bytes = randomBytes(length, 'every');
    const splits = [...everySplit(bytes)];
    expect(splits).toHaveLength(length < 2 ? 1 : length + 1);
    for (const chunks of splits) expect(concatBytes(chunks)).toEqual(bytes);
  });
});

describe('randomSplits', () => {
  it('rebuilds the input from every cut and repeats for the same seed', () => {
    const bytes = randomBytes(1000, 'random-splits');
    const first = [...randomSplits(bytes, 7, 20, { includeEmpty: true })];
    expect(first).toHaveLength(20);
    for (const chunks of first) expect(concatBytes(chunks)).toEqual(bytes);
    expect([...randomSplits(bytes, 7, 20, { includeEmpty: true })]).toEqual(first);
    expect([...randomSplits(bytes, 8, 20, { includeEmpty: true })]).not.toEqual(first);
  });

  it('keeps chunks within the maximum size', () => {
    for (const chunks of randomSplits(randomBytes(500), 'max', 10, { maxChunk: 3 })) {
      expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(3);
    }
  });
});

describe('streamOfChunks', () => {
  it('replays the chunks in order and closes', async () => {
    const stream = streamOfChunks([Uint8Array.of(1), Uint8Array.of(2, 3)]);
    expect(await readAll(stream)).toEqual(Uint8Array.of(1, 2, 3));
  });
});
