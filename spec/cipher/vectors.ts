/** Loads a published test vector file from spec/fixtures/vectors; every file names its `source`. */
import { readFileSync } from 'node:fs';

export interface VectorFile<Case> {
  source: string;
  cases: Case[];
}

/** Reads `spec/fixtures/vectors/<name>.json`. */
export function loadVectors<Case>(name: string): VectorFile<Case> {
  return JSON.parse(readFileSync(new URL(`../fixtures/vectors/${name}.json`, import.meta.url), 'utf8')) as VectorFile<Case>;
}

/** Hex to bytes. */
export const hex = (text: string): Buffer => Buffer.from(text, 'hex');
