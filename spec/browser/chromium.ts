/**
 * Headless Chromium for the browser specs: Debian's /usr/bin/chromium driven by playwright-core
 * (which never downloads a browser), a fresh profile per launch, and a 127.0.0.1 HTTP server that
 * serves one page loading the esbuild-bundled harness (spec/browser/page/harness.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { bundleForBrowser, repoRoot } from '../helpers/browser-bundle.js';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why Chromium cannot run here, or undefined when it can. */
export function chromiumUnavailableReason(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `Missing ${CHROMIUM_PATH} (Debian package chromium)`;
}

/**
 * Whether the browser specs skip: only outside CI, when Chromium is missing.
 * @throws Error under CI when Chromium is missing, so the spec fails instead of skipping
 */
export function skipWithoutChromium(): boolean {
  const reason = chromiumUnavailableReason();
  if (reason === undefined) return false;
  const ci = process.env.CI?.trim().toLowerCase();
  if (ci && ci !== '0' && ci !== 'false') throw new Error(`The browser specs must run under CI but cannot: ${reason}. .ci/run installs it`);
  return true;
}

/** A page with the harness loaded, and what to close afterwards. */
export interface HarnessPage {
  readonly page: Page;
  /** The HTTP origin serving the page. */
  readonly origin: string;
  /** What the page printed to its console, for failure messages. */
  readonly console: string[];
  close(): Promise<void>;
}

/**
 * Bundles the harness, serves it, launches Chromium on a fresh profile and opens the page.
 * @param entry another page module (repository path), which sets the global `ready` when loaded
 */
export async function openHarnessPage(entry = 'spec/browser/page/harness.ts', ready = 'sshHarness'): Promise<HarnessPage> {
  const bundle = await bundleForBrowser(join(repoRoot, entry));
  if (bundle.nodeImports.length > 0) throw new Error(`The harness bundle imports Node built-ins: ${JSON.stringify(bundle.nodeImports)}`);
  const html = '<!doctype html><meta charset="utf-8"><title>ssh-streams</title><script type="module" src="/harness.js"></script>';
  const http: Server = createServer((request, response) => {
    if (request.url === '/harness.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.code);
    } else if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const profile = mkdtempSync(join(tmpdir(), 'ssh-streams-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
    await page.goto(origin + '/');
    await page.waitForFunction((name) => name in globalThis, ready, { timeout: 30_000 });
    const opened = context;
    return {
      page,
      origin,
      console: consoleLines,
      async close() {
        await opened.close();
        await new Promise((resolve) => http.close(resolve));
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close();
    http.close();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
