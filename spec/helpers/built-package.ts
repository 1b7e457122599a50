/**
 * The compiled package (dist/) for specs that run it in another process: a terminal pane, the
 * command line, `npm pack`. CI builds before testing; locally, `ensureBuilt()` rebuilds when a
 * source file under lib/ is newer than the build, under a lock so parallel spec files build once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The compiled command line. */
export const CLI_PATH = join(ROOT, 'dist', 'lib', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isCurrent(): boolean {
  const marker = join(ROOT, 'dist', 'lib', 'index.js');
  return existsSync(marker) && existsSync(CLI_PATH) && statSync(marker).mtimeMs >= newestSource(join(ROOT, 'lib'));
}

/** Builds dist/ unless it is newer than every file under lib/. */
export function ensureBuilt(): void {
  if (isCurrent()) return;
  // flock serializes spec files; the later ones find the build current and skip it.
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const script =
    'if [ -f dist/lib/cli/main.js ] && [ -z "$(find lib -newer dist/lib/index.js -print -quit)" ]; then exit 0; fi; ' +
    `"${process.execPath}" "${tsc}" -p tsconfig.build.json && exec "${process.execPath}" "${tsc}" -p tsconfig.types.json`;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  execFileSync('flock', [join(ROOT, 'dist', '.build.lock'), 'sh', '-c', script], { cwd: ROOT, stdio: 'pipe' });
}

/**
 * The file URL of a compiled entry point, for `import` in a script run by node.
 * @param entry e.g. `lib/terminal/index.js`
 */
export function distUrl(entry: string): string {
  return pathToFileURL(join(ROOT, 'dist', entry)).href;
}
