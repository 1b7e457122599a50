/**
 * Writes V8 coverage after each spec file. Vitest ends its fork workers with a signal, so the
 * coverage that `c8` collects through NODE_V8_COVERAGE would otherwise never reach the disk.
 * Loaded through `setupFiles` in vitest.config.ts; does nothing when coverage is off.
 */
import { takeCoverage } from 'node:v8';
import { afterAll } from 'vitest';

afterAll(() => {
  if (process.env.NODE_V8_COVERAGE) takeCoverage();
});
