/**
 * The web demo's page: opens an SSH session over a WebSocket with the browser build of
 * ssh-streams, checks the host key against the fingerprint the server printed (passed in the URL
 * fragment), authenticates, runs a command and shows its output, then streams a file through
 * `cat` with a progress bar and checks its SHA-256 in the page; then attaches an xterm.js terminal
 * to a shell with a pseudo-terminal on the server (`pty-req`, `shell`, `window-change`).
 */
import { Terminal } from '@xterm/xterm';
import { ClientSession, SessionConfig, webSocketToDuplex } from '../../lib/index.browser.js';
import { getFingerprint } from '../../lib/keys/index.browser.js';

interface DemoInfo {
  username: string;
  password: string;
  command: string;
  file: { path: string; size: number; sha256: string };
}

const $ = (id: string): HTMLElement => document.getElementById(id)!;

function log(text: string, kind: 'ok' | 'bad' | '' = ''): void {
  const line = document.createElement('div');
  line.textContent = text;
  if (kind) line.className = kind;
  $('log').append(line);
}

async function run(): Promise<void> {
  const expected = decodeURIComponent(location.hash.replace(/^#fp=/, ''));
  const info = (await (await fetch('/demo.json')).json()) as DemoInfo;
  const client = new ClientSession(SessionConfig.default());
  client.onAuthenticating = (e) => {
    const seen = getFingerprint(e.publicKey!);
    const ok = seen === expected;
    log(`Host key ${seen} ${ok ? 'matches the fingerprint the server printed' : `does NOT match ${expected}`}`, ok ? 'ok' : 'bad');
    return ok;
  };
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ssh`;
  await client.connect(webSocketToDuplex(new WebSocket(url)));
  const a = client.algorithms!;
  log(`Connected over ${url}: ${a.kex}, ${a.serverHostKey}, ${a.encryptionClientToServer}`);
  if (!(await client.authenticate({ username: info.username, password: info.password }))) throw new Error('authentication failed');
  log(`Authenticated as ${info.username} with a password`, 'ok');

  const exec = await client.openChannel();
  await exec.exec(info.command);
  void exec.writable.close().catch(() => undefined);
  let output = '';
  const decoder = new TextDecoder();
  for await (const chunk of exec.readable) output += decoder.decode(chunk, { stream: true });
  const { exitStatus } = await exec.closed;
  $('command').textContent = `$ ${info.command}`;
  $('output').textContent = output + decoder.decode();
  log(`Command exited with status ${exitStatus}`, exitStatus === 0 ? 'ok' : 'bad');

  const cat = await client.openChannel();
  await cat.exec(`cat ${info.file.path}`);
  void cat.writable.close().catch(() => undefined);
  const received = new Uint8Array(info.file.size);
  let filled = 0;
  const started = performance.now();
  const bar = $('bar') as HTMLProgressElement;
  bar.max = info.file.size;
  for await (const chunk of cat.readable) {
    received.set(chunk.subarray(0, Math.max(0, info.file.size - filled)), filled);
    filled += chunk.length;
    bar.value = filled;
    $('progress-text').textContent = `${(filled / 1048576).toFixed(1)} / ${(info.file.size / 1048576).toFixed(1)} MiB`;
  }
  const seconds = (performance.now() - started) / 1000;
  const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', received))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const same = filled === info.file.size && digest === info.file.sha256;
  log(
    `Streamed ${filled} bytes in ${seconds.toFixed(1)} s (${(filled / 1e6 / seconds).toFixed(1)} MB/s); SHA-256 ${same ? 'matches' : 'DOES NOT MATCH'} the server's`,
    same ? 'ok' : 'bad',
  );
  document.body.dataset.state = same && exitStatus === 0 ? 'done' : 'failed';
  await openTerminal(client);
}

/** RFC 4254 §6.2, §6.5, §6.7: a shell on a pseudo-terminal the size of the xterm.js terminal. */
async function openTerminal(client: ClientSession): Promise<void> {
  const terminal = new Terminal({ cols: 100, rows: 12, convertEol: false, fontSize: 13 });
  terminal.open($('terminal'));
  const shell = await client.openChannel();
  const granted = await shell.requestPty({ term: 'xterm-256color', columns: terminal.cols, rows: terminal.rows });
  if (!(await shell.shell())) throw new Error('the server refused the shell');
  log(`Terminal: ${granted ? 'a pseudo-terminal' : 'pipes (the server has no node-pty)'} with a shell; type in it`, granted ? 'ok' : '');
  const writer = shell.writable.getWriter();
  const encoder = new TextEncoder();
  // Keys go out in order; each write waits for the channel's window (backpressure).
  let typing = Promise.resolve();
  terminal.onData((data) => {
    typing = typing.then(() => writer.write(encoder.encode(data))).catch(() => undefined);
  });
  terminal.onResize(({ cols, rows }) => void shell.resizePty({ columns: cols, rows }).catch(() => undefined));
  document.body.dataset.terminal = 'open';
  terminal.focus();
  for await (const chunk of shell.readable) terminal.write(chunk);
  document.body.dataset.terminal = 'closed';
  await client.close();
}

run().catch((error: unknown) => {
  log(`Error: ${error instanceof Error ? error.message : String(error)}`, 'bad');
  document.body.dataset.state = 'failed';
});
