/**
 * The published package resolves under every export condition (a publint-style check): the
 * library is built with tsc into a scratch package, then every `exports` target must exist, lie
 * within `files`, and load: Node resolves the `node` files and imports them, esbuild resolves
 * the `browser` files, and both builds of an entry export the same names.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, notYetPortable, repoRoot } from '../helpers/browser-bundle.js';

const run = promisify(execFile);

interface PackageJson {
  name: string;
  main: string;
  types: string;
  files: string[];
  exports: Record<string, Record<string, string>>;
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
const subpaths = Object.keys(pkg.exports);
const conditions = ['types', 'browser', 'bun', 'deno', 'node', 'default'];
let dir: string;

/** `ssh-streams` + subpath as an importer writes it. */
const specifierOf = (subpath: string): string => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ssh-streams-package-'));
  // The published part only (lib/), laid out as `npm run build` lays it out (dist/lib/...): the
  // JavaScript from tsconfig.build.json, the declarations from tsconfig.types.json.
  for (const base of ['tsconfig.build.json', 'tsconfig.types.json']) {
    const tsconfig = join(dir, base);
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(repoRoot, base),
        compilerOptions: {
          rootDir: repoRoot,
          outDir: join(dir, 'dist'),
          typeRoots: [join(repoRoot, 'node_modules/@types')],
          sourceMap: false,
        },
        include: [join(repoRoot, 'lib')],
      }),
    );
    await run(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: repoRoot });
  }
  cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('package.json exports', () => {
  it('every condition of every entry names a built file inside `files`, and main/types exist', () => {
    const missing: string[] = [];
    for (const subpath of subpaths) {
      for (const condition of conditions) {
        const target = pkg.exports[subpath]![condition];
        if (target === undefined) {
          missing.push(`${subpath} has no "${condition}" condition`);
          continue;
        }
        if (!existsSync(join(dir, target))) missing.push(`${subpath} "${condition}": ${target} was not built`);
        if (!pkg.files.some((f) => relative(f, target.replace(/^\.\//, '')).split('/')[0] !== '..')) {
          missing.push(`${subpath} "${condition}": ${target} is outside "files"`);
        }
        if (condition === 'types' ? !target.endsWith('.d.ts') : !target.endsWith('.js')) missing.push(`${subpath} "${condition}": ${target}`);
      }
    }
    for (const field of [pkg.main, pkg.types]) if (!existsSync(join(dir, field))) missing.push(`${field} was not built`);
    expect(missing).toEqual([]);
  });

  it('Node resolves each entry to its node file and imports it', async () => {
    const script = `
      const out = {};
      for (const s of ${JSON.stringify(subpaths.map(specifierOf))}) {
        out[s] = { file: import.meta.resolve(s), names: Object.keys(await import(s)).sort() };
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    const resolved = JSON.parse(stdout) as Record<string, { file: string; names: string[] }>;
    for (const subpath of subpaths) {
      const got = resolved[specifierOf(subpath)]!;
      expect(got.file).toBe(new URL(pkg.exports[subpath]!.node!, `file://${dir}/`).href);
      expect(got.names.length).toBeGreaterThan(0);
    }
    expect(resolved[pkg.name]!.names).toEqual(expect.arrayContaining(['ClientSession', 'ServerSession', 'SessionConfig', 'webSocketToDuplex', 'serveExec']));
  });

  it('a browser bundler resolves each entry to its browser file, with the same names as on Node', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', `const out = {}; for (const s of ${JSON.stringify(subpaths.map(specifierOf))}) out[s] = Object.keys(await import(s)).sort(); console.log(JSON.stringify(out));`],
      { cwd: dir },
    );
    const nodeNames = JSON.parse(stdout) as Record<string, string[]>;
    for (const subpath of subpaths) {
      const specifier = specifierOf(subpath);
      const bundle = await bundleForBrowser({ contents: `export * from '${specifier}';`, resolveDir: dir });
      const inputs = Object.keys(bundle.metafile.inputs);
      const browserFile = pkg.exports[subpath]!.browser!.replace(/^\.\//, '');
      expect(inputs.some((i) => i.endsWith(browserFile)), `${specifier} must resolve to ${browserFile}`).toBe(true);
      expect(inputs.some((i) => i.endsWith('platform/node.js')), `${specifier} must not reach the Node platform file`).toBe(false);
      const exported = Object.values(bundle.metafile.outputs)[0]!.exports.sort();
      expect(exported, specifier).toEqual(nodeNames[specifier]);
      // The built files obey the same rule as the sources (spec/platform/browser-bundle.spec.ts).
      const importers = bundle.nodeImports.map((i) => i.importer.replace(/^.*?dist\//, '').replace(/\.js$/, '.ts'));
      expect(importers.filter((i) => !notYetPortable.includes(i))).toEqual([]);
    }
  });
});
