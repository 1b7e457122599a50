import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const staticImport = /^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm;

/** Every module reachable from `entry` through static imports: relative paths, packages and `node:` names. */
function reachable(entry: string): { files: Set<string>; external: Map<string, string> } {
  const files = new Set<string>();
  const external = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(staticImport)) {
      const specifier = match[1] ?? match[2]!;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else external.set(specifier, relative(root, file));
    }
  };
  visit(entry);
  return { files, external };
}

describe('lib/keys portability', () => {
  it('reaches no node: module statically from the web platform file and the keys modules it serves', () => {
    const entries = ['lib/platform/web.ts', 'lib/keys/key-pair.ts', 'lib/keys/import-key.ts', 'lib/keys/export-key.ts', 'lib/keys/fingerprint.ts', 'lib/keys/known-hosts.ts', 'lib/keys/authorized-keys.ts'];
    for (const entry of entries) {
      const { files, external } = reachable(join(root, entry));
      const nodeImports = [...external].filter(([name]) => name.startsWith('node:'));
      expect(nodeImports, entry).toEqual([]);
      expect([...files].map((f) => relative(root, f)), entry).not.toContain('lib/keys/suites/node.ts');
    }
  });

  it('keeps node:crypto behind lib/keys/suites/node.ts, which only the node platform file imports', () => {
    const { external } = reachable(join(root, 'lib/keys/suites/node.ts'));
    expect(external.get('node:crypto')).toBe('lib/keys/suites/node.ts');
    expect(reachable(join(root, 'lib/platform/node.ts')).files).toContain(join(root, 'lib/keys/suites/node.ts'));
  });
});
