import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RequestScheduler, type FileAccess } from '../../lib/sftp/server-scheduler.js';

const read = (file: string, start: number, end: number): FileAccess => ({ write: false, file, start, end });
const write = (file: string, start: number, end: number): FileAccess => ({ write: true, file, start, end });

/** Everything `next()` lets start now. */
function drain<T>(s: RequestScheduler<T>): T[] {
  const out: T[] = [];
  for (let item = s.next(); item !== undefined; item = s.next()) out.push(item);
  return out;
}

describe('RequestScheduler', () => {
  it('runs reads of the same bytes side by side, up to the bound', () => {
    const s = new RequestScheduler<number>(3);
    for (let i = 0; i < 5; i++) s.enqueue(i, read('f', 0, 100));
    expect(drain(s)).toEqual([0, 1, 2]);
    s.finished(1);
    expect(drain(s)).toEqual([3]);
    expect(s.running).toBe(3);
    expect(s.queued).toBe(1);
  });

  it('holds a write that overlaps a running request, and everything behind it', () => {
    const s = new RequestScheduler<string>(8);
    s.enqueue('r', read('f', 0, 10));
    s.enqueue('w', write('f', 5, 15));
    s.enqueue('other', read('g', 0, 10));
    expect(drain(s)).toEqual(['r']);
    s.finished('r');
    expect(drain(s)).toEqual(['w', 'other']);
  });

  it('runs disjoint writes, and writes to other files, side by side', () => {
    const s = new RequestScheduler<string>(8);
    s.enqueue('a', write('f', 0, 10));
    s.enqueue('b', write('f', 10, 20));
    s.enqueue('c', write('g', 0, 10));
    s.enqueue('d', read('f', 20, 30));
    expect(drain(s)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('treats an append write as touching its whole file', () => {
    const s = new RequestScheduler<string>(8);
    s.enqueue('r', read('f', 1_000_000, 1_000_010));
    s.enqueue('append', write('f', 0, Infinity));
    expect(drain(s)).toEqual(['r']);
    s.finished('r');
    expect(drain(s)).toEqual(['append']);
  });

  it('runs any other request alone, after everything before it and before everything after it', () => {
    const s = new RequestScheduler<string>(8);
    s.enqueue('r1', read('f', 0, 10));
    s.enqueue('close', undefined);
    s.enqueue('r2', read('g', 0, 10));
    expect(drain(s)).toEqual(['r1']);
    s.finished('r1');
    expect(drain(s)).toEqual(['close']);
    expect(drain(s)).toEqual([]);
    s.finished('close');
    expect(drain(s)).toEqual(['r2']);
    s.finished('r2');
    expect(s.idle).toBe(true);
  });

  it('never runs two conflicting requests at once, nor more than the bound, and starts in arrival order', () => {
    const access = fc.oneof(
      fc.constant(undefined),
      fc.record({
        write: fc.boolean(),
        file: fc.constantFrom('f', 'g'),
        start: fc.integer({ min: 0, max: 50 }),
        length: fc.integer({ min: 0, max: 20 }),
        append: fc.boolean(),
      }).map(({ write: w, file, start, length, append }) => ({ write: w, file, start: w && append ? 0 : start, end: w && append ? Infinity : start + length })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(access, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (max, accesses, picks) => {
        const s = new RequestScheduler<number>(max);
        accesses.forEach((a, i) => s.enqueue(i, a));
        const running: number[] = [];
        const started: number[] = [];
        for (let step = 0; started.length < accesses.length; step++) {
          for (const item of drain(s)) {
            started.push(item);
            running.push(item);
          }
          expect(running.length).toBeLessThanOrEqual(max);
          for (const a of running) {
            for (const b of running) {
              if (a >= b) continue;
              const [x, y] = [accesses[a], accesses[b]];
              expect(x !== undefined && y !== undefined).toBe(true);
              const clash = x!.file === y!.file && (x!.write || y!.write) && x!.start < y!.end && y!.start < x!.end;
              expect(clash).toBe(false);
            }
          }
          // Something always runs while work remains: the scheduler never stalls by itself.
          expect(running.length).toBeGreaterThan(0);
          const [done] = running.splice(picks[step % picks.length]! % running.length, 1);
          s.finished(done!);
        }
        expect(started).toEqual(accesses.map((_, i) => i));
      }),
    );
  });
});
