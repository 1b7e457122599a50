/**
 * The web demo in headless Chromium: the page connects over the demo's WebSocket endpoint, checks
 * the printed host key fingerprint, authenticates, runs the command and streams the sample file;
 * the spec checks what the page shows and saves a screenshot as docs/web-demo.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebDemo, type WebDemo } from '../../demo/web-demo.js';
import { CHROMIUM_PATH, skipWithoutChromium } from '../browser/chromium.js';
import { repoRoot } from '../helpers/browser-bundle.js';

describe.skipIf(skipWithoutChromium())('npm run demo:web', () => {
  let demo: WebDemo;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'ssh-streams-web-demo-'));
    demo = await startWebDemo({ port: 0, stateDir });
  }, 60_000);

  afterAll(async () => {
    await demo?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('opens a session from the page, shows the command output and streams the file', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'ssh-streams-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      viewport: { width: 1000, height: 560 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(demo.url);
      await page.waitForFunction(() => document.body.dataset.state !== undefined, undefined, { timeout: 120_000 });
      const log = await page.locator('#log').innerText();
      expect(await page.evaluate(() => document.body.dataset.state), log).toBe('done');
      expect(log).toContain(`Host key ${demo.fingerprint} matches the fingerprint the server printed`);
      expect(log).toContain('Authenticated as demo');
      expect(log).toMatch(/Streamed 16777216 bytes in .* SHA-256 matches/);
      expect(await page.locator('#output').innerText()).toContain('served by ssh-streams over a WebSocket');
      expect(await page.evaluate(() => (document.getElementById('bar') as HTMLProgressElement).value)).toBe(16 * 1024 * 1024);
      await page.screenshot({ path: join(repoRoot, 'docs/web-demo.png') });
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
