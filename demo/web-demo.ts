/**
 * `npm run demo:web`: an HTTP server on 127.0.0.1 that serves a page running the browser build
 * of ssh-streams, and a WebSocket endpoint (/ssh) where a Node ServerSession answers it
 * (webSocketToDuplex on the `ws` package's socket). It prints the host key fingerprint and a link
 * that carries it; the page refuses any other host key, logs in as `demo`/`demo`, runs a command
 * and streams a sample file with a progress bar, then opens an xterm.js terminal on a pty shell
 * (a real pseudo-terminal when node-pty is installed). `--port N` picks the port (default 8022).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { WebSocketServer } from 'ws';
import { ServerSession, SessionConfig, generateKeyPair, serveExec, webSocketToDuplex, type KeyPair } from '../lib/index.node.js';
import { KeyFormat, exportPrivateKey, getFingerprint, importKey } from '../lib/keys/index.node.js';

const USER = 'demo';
const PASSWORD = 'demo';
const COMMAND = 'uname -sr; echo "served by $SSH_STREAMS_DEMO"';
const SAMPLE_SIZE = 16 * 1024 * 1024;

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssh-streams in the browser</title>
<link rel="stylesheet" href="/xterm.css">
<style>
  body { font: 15px system-ui, sans-serif; margin: 2rem auto; max-width: 56rem; color: #1d2330; }
  h1 { font-size: 1.4rem; } pre { background: #10141c; color: #d7e0ee; padding: 1rem; border-radius: 6px; overflow-x: auto; }
  #log div { padding: .15rem 0; } .ok { color: #19703a; } .bad { color: #b3261e; font-weight: 600; }
  progress { width: 100%; height: 1.2rem; } #progress-text { font-variant-numeric: tabular-nums; }
</style></head>
<body><h1>ssh-streams: an SSH session from this page, over a WebSocket</h1>
<div id="log"></div>
<pre><span id="command"></span>\n<span id="output"></span></pre>
<p>Streaming a file through <code>cat</code>: <span id="progress-text"></span></p>
<progress id="bar" value="0" max="1"></progress>
<p>A shell on a pseudo-terminal, in xterm.js:</p>
<div id="terminal"></div>
<script type="module" src="/page.js"></script></body></html>`;

/** A running web demo. */
export interface WebDemo {
  readonly url: string;
  readonly fingerprint: string;
  close(): Promise<void>;
}

async function loadHostKey(stateDir: string): Promise<KeyPair> {
  const path = join(stateDir, 'ssh_host_ed25519_key');
  if (existsSync(path)) return importKey(readFileSync(path, 'utf8'));
  const key = await generateKeyPair('ssh-ed25519', { comment: 'ssh-streams demo host key' });
  writeFileSync(path, await exportPrivateKey(key, KeyFormat.OpenSsh), { mode: 0o600 });
  return key;
}

function sampleFile(stateDir: string): { path: string; size: number; sha256: string } {
  const path = join(stateDir, 'web-sample.bin');
  if (!existsSync(path)) {
    const out = Buffer.alloc(SAMPLE_SIZE);
    const block = createHash('sha512');
    for (let at = 0; at < out.length; at += 64) out.set(block.copy().update(String(at)).digest(), at);
    writeFileSync(path, out);
  }
  return { path, size: SAMPLE_SIZE, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

/**
 * Starts the page server and its SSH-over-WebSocket endpoint.
 * @param options port (0 = any) and the state directory (host key, sample file)
 */
export async function startWebDemo(options: { port: number; stateDir: string }): Promise<WebDemo> {
  mkdirSync(options.stateDir, { recursive: true });
  const hostKey = await loadHostKey(options.stateDir);
  const file = sampleFile(options.stateDir);
  const here = fileURLToPath(new URL('.', import.meta.url));
  // From the sources (demo/) or from the build (dist/demo/): the page is bundled from its TypeScript.
  const entry = [join(here, 'web/page.ts'), join(here, '../../demo/web/page.ts')].find((path) => existsSync(path))!;
  const page = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  const script = page.outputFiles[0]!.text;
  const xtermCss = readFileSync(createRequire(import.meta.url).resolve('@xterm/xterm/css/xterm.css'), 'utf8');
  const info = JSON.stringify({ username: USER, password: PASSWORD, command: COMMAND, file });

  const http: Server = createServer((request, response) => {
    if (request.url === '/page.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (request.url === '/xterm.css') response.writeHead(200, { 'content-type': 'text/css' }).end(xtermCss);
    else if (request.url === '/demo.json') response.writeHead(200, { 'content-type': 'application/json' }).end(info);
    else if (request.url === '/' || request.url?.startsWith('/#')) response.writeHead(200, { 'content-type': 'text/html' }).end(HTML);
    else response.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server: http, path: '/ssh' });
  wss.on('connection', (ws) => {
    const session = new ServerSession(SessionConfig.default(), { hostKeys: [hostKey] });
    session.onAuthenticating = (e) => e.username === USER && e.password === PASSWORD;
    void (async () => {
      await session.connect(webSocketToDuplex(ws));
      for await (const channel of session.channels) {
        serveExec(channel, { env: { ...process.env, SSH_STREAMS_DEMO: 'ssh-streams over a WebSocket' } });
      }
    })().catch(() => ws.terminate());
  });
  await new Promise<void>((resolve) => http.listen(options.port, '127.0.0.1', resolve));
  const fingerprint = getFingerprint(hostKey);
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/#fp=${encodeURIComponent(fingerprint)}`,
    fingerprint,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8022' } } });
  const demo = await startWebDemo({ port: Number(values.port), stateDir: join(process.cwd(), '.demo') });
  console.log(`ssh-streams web demo: host key ${demo.fingerprint}`);
  console.log(`Open ${demo.url}`);
  console.log('The page connects over a WebSocket, checks that fingerprint, logs in as demo/demo, runs a command and streams a file. Ctrl+C stops.');
}
