/**
 * Browser rows of `npm run bench` (`--only=browser`): a page in headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core, which never downloads a browser) runs the library's
 * browser build as an SSH client over a WebSocket to a Node `ServerSession` on 127.0.0.1 (the `ws`
 * package's socket through webSocketToDuplex), and moves `bytes` through one channel in each
 * direction: `download` (the server writes, the page opens the packets) and `upload` (the page
 * seals). The page's packet crypto is the pure-JavaScript suite, the server's node:crypto.
 * Besides wall-clock MB/s, each row gives MB per CPU second of the page's renderer process, of
 * Chromium's other processes (browser, network service) and of the Node server (this process),
 * which a loaded machine disturbs far less than the wall clock. The last two rows move the same
 * bytes over a bare WebSocket with no SSH: the ceiling the browser's WebSocket sets on the machine.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { ServerSession, SessionConfig, generateKeyPair, webSocketToDuplex, type Channel } from '../lib/index.node.js';
import { getFingerprint } from '../lib/keys/index.node.js';
import type { BrowserResult, Direction } from './types.js';
import type { PageOutcome, PageTransfer } from './browser/page.js';
import { median } from './median.js';

const CHROMIUM = '/usr/bin/chromium';
/** The last rows: the same bytes over a bare WebSocket, the ceiling the browser's WebSocket sets. */
const RAW = 'raw';
const credentials = { username: 'bench', password: 'bench' };

/** What the browser rows measure. */
export interface BrowserBenchOptions {
  bytes: number;
  chunkSize: number;
  rounds: number;
  ciphers: readonly string[];
  /** A directory to write a V8 CPU profile of the page per row into (`--browser-profile=DIR`). */
  profileDir?: string;
  log?: (line: string) => void;
}

/** The server end of one bench channel: `download N` writes N bytes, `upload N` reads them and answers exit status 0. */
function serveBenchChannel(channel: Channel, chunkSize: number): void {
  channel.onRequest = (e) => {
    const match = e.requestType === 'exec' ? /^(download|upload) (\d+)$/.exec(e.command ?? '') : null;
    if (!match) return false;
    const bytes = Number(match[2]);
    void (match[1] === 'download' ? sendBytes(channel, bytes, chunkSize) : countBytes(channel, bytes)).catch(() => channel.close());
    return true;
  };
}

async function sendBytes(channel: Channel, bytes: number, chunkSize: number): Promise<void> {
  const writer = channel.writable.getWriter();
  const chunk = new Uint8Array(chunkSize).map((_, i) => i * 13);
  for (let sent = 0; sent < bytes; sent += chunkSize) {
    await writer.ready;
    void writer.write(bytes - sent >= chunkSize ? chunk : chunk.subarray(0, bytes - sent)).catch(() => undefined);
  }
  await writer.close();
  await channel.close({ exitStatus: 0 });
}

async function countBytes(channel: Channel, bytes: number): Promise<void> {
  let received = 0;
  for await (const chunk of channel.readable) received += chunk.length;
  await channel.close({ exitStatus: received === bytes ? 0 : 1 });
}

/** The server end of the bare-WebSocket reference: sends `download` bytes, or counts `upload` bytes and answers "done". */
function serveRawTransfer(ws: WsSocket, query: URLSearchParams, chunkSize: number): void {
  const download = Number(query.get('download') ?? 0);
  const upload = Number(query.get('upload') ?? 0);
  if (download > 0) {
    const chunk = new Uint8Array(chunkSize).map((_, i) => i * 13);
    let sent = 0;
    const pump = (): void => {
      while (sent < download && ws.bufferedAmount <= 1024 * 1024) {
        ws.send(download - sent >= chunkSize ? chunk : chunk.subarray(0, download - sent));
        sent += chunkSize;
      }
      if (sent < download) setTimeout(pump, 2);
    };
    pump();
  } else {
    let received = 0;
    ws.on('message', (data: Buffer) => {
      received += data.length;
      if (received >= upload) ws.send('done');
    });
  }
}

/** Bundles the page from its TypeScript (next to this file in the sources, or from dist/bench). */
async function bundlePage(minify: boolean): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = [join(here, 'browser/page.ts'), resolve(here, '../../bench/browser/page.ts')].find((path) => existsSync(path));
  if (entry === undefined) throw new Error(`bench/browser/page.ts not found from ${here}`);
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    target: 'es2022',
    minify,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/**
 * Runs the browser rows.
 * @throws Error when Chromium is missing (the rows are only run when asked for)
 */
export async function runBrowserBench(options: BrowserBenchOptions): Promise<BrowserResult[]> {
  if (!existsSync(CHROMIUM)) throw new Error(`The browser rows need ${CHROMIUM} (Debian package chromium)`);
  const log = options.log ?? (() => undefined);
  const hostKey = await generateKeyPair('ssh-ed25519');
  // Profiles keep the function names readable.
  const script = await bundlePage(options.profileDir === undefined);
  const http: Server = createServer((request, response) => {
    if (request.url === '/page.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>');
    else response.writeHead(404).end();
  });
  // Two endpoints on one HTTP server: `ws` wants noServer and routing by hand for that.
  const wss = new WebSocketServer({ noServer: true });
  const raw = new WebSocketServer({ noServer: true });
  http.on('upgrade', (request, socket, head) => {
    const target = request.url?.startsWith('/ssh') ? wss : request.url?.startsWith('/raw') ? raw : undefined;
    if (target === undefined) socket.destroy();
    else target.handleUpgrade(request, socket, head, (ws) => target.emit('connection', ws, request));
  });
  raw.on('connection', (ws, request) => serveRawTransfer(ws, new URL(request.url ?? '', 'http://localhost').searchParams, options.chunkSize));
  wss.on('connection', (ws) => {
    const config = SessionConfig.default();
    config.encryptionAlgorithms = [...config.encryptionAlgorithms, 'none'];
    config.hmacAlgorithms = [...config.hmacAlgorithms, 'none'];
    const session = new ServerSession(config, { hostKeys: [hostKey] });
    session.onAuthenticating = (e) => e.username === credentials.username && e.password === credentials.password;
    void (async () => {
      await session.connect(webSocketToDuplex(ws));
      for await (const channel of session.channels) serveBenchChannel(channel, options.chunkSize);
    })().catch(() => ws.terminate());
  });
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results: BrowserResult[] = [];
  try {
    const page = await browser.newPage();
    await page.goto(origin + '/');
    await page.waitForFunction(() => 'sshBench' in globalThis, undefined, { timeout: 30_000 });
    const cdp = await page.context().newCDPSession(page);
    const browserCdp = await browser.newBrowserCDPSession();
    /** CPU seconds so far of the page's renderer, of Chromium's other processes, and of this (the server's) process. */
    const cpuSeconds = async (): Promise<{ page: number; chromium: number; server: number }> => {
      const { processInfo } = (await browserCdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; cpuTime: number }[] };
      const usage = process.cpuUsage();
      return {
        page: processInfo.filter((p) => p.type === 'renderer').reduce((sum, p) => sum + p.cpuTime, 0),
        chromium: processInfo.filter((p) => p.type !== 'renderer').reduce((sum, p) => sum + p.cpuTime, 0),
        server: (usage.user + usage.system) / 1e6,
      };
    };
    for (const cipher of [...options.ciphers, RAW]) {
      for (const direction of ['client-to-server', 'server-to-client'] as Direction[]) {
        const transfer: PageTransfer = {
          url: `${origin.replace('http', 'ws')}/${cipher === RAW ? 'raw' : 'ssh'}`,
          hostFingerprint: getFingerprint(hostKey),
          ...credentials,
          cipher,
          direction,
          bytes: options.bytes,
          chunkSize: options.chunkSize,
          rounds: options.rounds,
        };
        if (options.profileDir !== undefined) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.start');
        }
        const before = await cpuSeconds();
        const outcome: PageOutcome = await page.evaluate(
          ({ t, raw }) => {
            const bench = (globalThis as unknown as { sshBench: Record<'transfer' | 'rawTransfer', (t: PageTransfer) => Promise<PageOutcome>> }).sshBench;
            return raw ? bench.rawTransfer(t) : bench.transfer(t);
          },
          { t: transfer, raw: cipher === RAW },
        );
        const after = await cpuSeconds();
        if (options.profileDir !== undefined) {
          const { profile } = await cdp.send('Profiler.stop');
          mkdirSync(options.profileDir, { recursive: true });
          writeFileSync(join(options.profileDir, `page-${cipher}-${direction}.cpuprofile`), JSON.stringify(profile));
        }
        const runs = outcome.seconds.map((s) => options.bytes / 1e6 / s);
        const result: BrowserResult = {
          scenario: 'browser',
          peer: 'ssh-streams (Chromium page)',
          cipher: outcome.cipher,
          direction,
          bytes: options.bytes,
          mbPerSecond: median(runs),
          runs,
          // CPU time covers the session setup too: a slight understatement of the per-byte rates.
          pageCpuMbPerSecond: (options.bytes * options.rounds) / 1e6 / (after.page - before.page),
          chromiumCpuMbPerSecond: (options.bytes * options.rounds) / 1e6 / (after.chromium - before.chromium),
          serverCpuMbPerSecond: (options.bytes * options.rounds) / 1e6 / (after.server - before.server),
        };
        log(
          `browser ${cipher} ${direction}: ${runs.map((r) => r.toFixed(1)).join(', ')} MB/s; MB per CPU second: page ${result.pageCpuMbPerSecond.toFixed(1)}, ` +
            `Chromium's other processes ${result.chromiumCpuMbPerSecond.toFixed(1)}, Node server ${result.serverCpuMbPerSecond.toFixed(1)}`,
        );
        results.push(result);
      }
    }
  } finally {
    await browser.close();
    for (const client of [...wss.clients, ...raw.clients]) client.terminate();
    await new Promise((done) => wss.close(done));
    await new Promise((done) => raw.close(done));
    await new Promise((done) => http.close(done));
  }
  return results;
}
