/**
 * Bundles library entry points the way a web application would (esbuild, platform 'browser',
 * the `browser` export condition) and records every Node built-in the bundle would need: a
 * `node:` specifier or a bare built-in name (`crypto`, `net`, ...), with the module importing it.
 */
import { builtinModules } from 'node:module';
import { relative } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

/** Where the repository is. */
export const repoRoot = new URL('../../', import.meta.url).pathname;

/** One import of a Node built-in found while bundling. */
export interface NodeImport {
  /** The importing file, relative to the repository. */
  readonly importer: string;
  /** The specifier as written (`node:crypto`, `fs`). */
  readonly specifier: string;
  /** How it is imported: statically, with `import()` or `require()`. */
  readonly kind: string;
}

/** The result of `bundleForBrowser`. */
export interface BrowserBundle {
  /** The bundled ES module. */
  readonly code: string;
  /** Node built-ins the code would import. */
  readonly nodeImports: NodeImport[];
  readonly metafile: Metafile;
}

/**
 * Modules allowed to reach a Node built-in from a browser entry: none. Every layer's Node-only
 * code sits behind its install seam (lib/platform/node.ts); a module listed here would be a known
 * gap of the browser build, and the spec fails both on an unlisted importer and on a listed module
 * that no longer imports Node.
 */
export const notYetPortable: readonly string[] = [];

const builtins = new Set(builtinModules.flatMap((name) => [name, name.split('/')[0]!]));

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(specifier.split('/')[0]!);
}

/**
 * Bundles `entry` for a browser.
 * @param entry a file path, or `{ contents, resolveDir }` for an inline module
 * @param options `minify` for the bundle served to pages
 */
export async function bundleForBrowser(
  entry: string | { contents: string; resolveDir: string },
  options: { minify?: boolean } = {},
): Promise<BrowserBundle> {
  const nodeImports: NodeImport[] = [];
  const recordNodeImports: Plugin = {
    name: 'record-node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || !isNodeBuiltin(args.path)) return undefined;
        nodeImports.push({ importer: relative(repoRoot, args.importer), specifier: args.path, kind: args.kind });
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { ...entry, loader: 'ts' as const } }),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    target: 'es2022',
    minify: options.minify ?? false,
    metafile: true,
    logLevel: 'silent',
    plugins: [recordNodeImports],
  });
  return { code: result.outputFiles[0]!.text, nodeImports, metafile: result.metafile };
}
