/**
 * The browser build must not reach a Node built-in: each browser entry of package.json is bundled
 * with esbuild for a browser, and every `node:` (or bare built-in) import found is a failure,
 * except the modules still listed in `notYetPortable` (spec/helpers/browser-bundle.ts), which
 * must shrink to nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleForBrowser, notYetPortable, repoRoot } from '../helpers/browser-bundle.js';

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, Record<string, string>>;
};

/** The source of a built file named in `exports`: ./dist/lib/x/index.browser.js -> lib/x/index.browser.ts. */
function sourceOf(target: string): string {
  return join(repoRoot, target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
}

describe('browser entry points', () => {
  const entries = Object.entries(packageJson.exports).map(([subpath, conditions]) => ({ subpath, browser: conditions.browser }));

  it('every export has a browser condition, listed before the node ones', () => {
    for (const [subpath, conditions] of Object.entries(packageJson.exports)) {
      const keys = Object.keys(conditions);
      expect(keys[0], `${subpath}: types must come first`).toBe('types');
      expect(conditions.browser, `${subpath} has no browser condition`).toBeDefined();
      expect(keys.indexOf('browser'), `${subpath}: browser must precede node`).toBeLessThan(keys.indexOf('node'));
      expect(keys.at(-1), `${subpath}: default must come last`).toBe('default');
    }
  });

  for (const { subpath, browser } of entries) {
    it(`${subpath} bundles for a browser without any Node built-in`, async () => {
      const bundle = await bundleForBrowser(sourceOf(browser!));
      const importers = [...new Set(bundle.nodeImports.map((i) => i.importer))].sort();
      const unexpected = bundle.nodeImports.filter((i) => !notYetPortable.includes(i.importer));
      expect(unexpected, `Node built-ins reachable from the browser entry ${subpath}`).toEqual([]);
      // Reachability differs per entry; a listed module reachable from no entry at all is checked below.
      expect(importers.every((i) => notYetPortable.includes(i))).toBe(true);
    });
  }

  it('lists only modules that still import Node built-ins from some browser entry', async () => {
    const reachable = new Set<string>();
    for (const { browser } of entries) {
      for (const i of (await bundleForBrowser(sourceOf(browser!))).nodeImports) reachable.add(i.importer);
    }
    expect([...reachable].sort()).toEqual([...notYetPortable].sort());
  });

  it('sees a Node built-in when one is reachable', async () => {
    const bundle = await bundleForBrowser({
      contents: "import './lib/index.browser.ts'; import { createHash } from 'crypto'; import 'node:zlib'; export { createHash };",
      resolveDir: repoRoot,
    });
    expect(bundle.nodeImports.map((i) => i.specifier)).toEqual(expect.arrayContaining(['crypto', 'node:zlib']));
  });
});
