/**
 * The web demo in headless Chromium: the page connects over the demo's WebSocket endpoint, checks
 * the printed host key fingerprint, authenticates, runs the command and streams the sample file;
 * the spec checks what the page shows and takes a screenshot. With UPDATE_SCREENSHOT=1 it is saved
 * as docs/web-demo.png (the one README shows); otherwise in a scratch directory, so a test run
 * leaves the work tree alone.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
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
      viewport: { width: 1000, height: 860 },
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
      // The xterm.js terminal: typed keys reach a shell on a pseudo-terminal and its output shows.
      await page.waitForFunction(() => document.body.dataset.terminal === 'open', undefined, { timeout: 60_000 });
      expect(await page.locator('#log').innerText()).toContain('Terminal: a pseudo-terminal with a shell');
      await page.locator('#terminal .xterm').click();
      await page.keyboard.type('tty; echo "xterm-$((6*7))"; stty size\n');
      await expect.poll(() => page.locator('#terminal .xterm-rows').innerText(), { timeout: 30_000 }).toMatch(/xterm-42/);
      const screen = await page.locator('#terminal .xterm-rows').innerText();
      expect(screen).toMatch(/\/dev\/pts\/\d+/);
      expect(screen).toMatch(/^12 100$/m);
      const shot = process.env.UPDATE_SCREENSHOT === '1' ? join(repoRoot, 'docs/web-demo.png') : join(stateDir, 'web-demo.png');
      await page.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
