/**
 * The page of `npm run bench -- --only=browser` (bench/browser.ts), bundled with esbuild for the
 * browser so it runs the library's browser build: an SSH client over a WebSocket to the bench's
 * Node server. Each round opens a channel, asks for `download N` or `upload N` and times the bytes
 * through it; the page keeps nothing it receives.
 */
import { ClientSession, SessionConfig, webSocketToDuplex } from '../../lib/index.browser.js';
import { getFingerprint } from '../../lib/keys/index.browser.js';

/** One measurement the bench asks for. */
export interface PageTransfer {
  url: string;
  hostFingerprint: string;
  username: string;
  password: string;
  cipher: string;
  direction: 'client-to-server' | 'server-to-client';
  bytes: number;
  chunkSize: number;
  rounds: number;
}

/** Seconds of each round, and what was negotiated. */
export interface PageOutcome {
  cipher: string;
  seconds: number[];
}

async function download(channel: Awaited<ReturnType<ClientSession['openChannel']>>, bytes: number): Promise<void> {
  let received = 0;
  for await (const chunk of channel.readable) received += chunk.length;
  if (received !== bytes) throw new Error(`Downloaded ${received} of ${bytes} bytes`);
}

async function upload(channel: Awaited<ReturnType<ClientSession['openChannel']>>, bytes: number, chunkSize: number): Promise<void> {
  const writer = channel.writable.getWriter();
  const chunk = new Uint8Array(chunkSize).map((_, i) => i * 7);
  let failure: unknown;
  for (let sent = 0; sent < bytes && failure === undefined; sent += chunkSize) {
    await writer.ready;
    writer.write(bytes - sent >= chunkSize ? chunk : chunk.subarray(0, bytes - sent)).catch((e: unknown) => (failure ??= e));
  }
  await writer.close();
  if (failure !== undefined) throw failure;
  // The server answers exit status 0 once it has read every byte.
  const { exitStatus } = await channel.closed;
  if (exitStatus !== 0) throw new Error(`The server read the wrong number of bytes (exit status ${exitStatus})`);
}

const bench = {
  async transfer(t: PageTransfer): Promise<PageOutcome> {
    const config = SessionConfig.default();
    config.encryptionAlgorithms = [t.cipher];
    // Cipher `none` measures everything but the packet crypto: no MAC either.
    if (t.cipher === 'none') config.hmacAlgorithms = ['none'];
    const client = new ClientSession(config);
    client.onAuthenticating = (e) => getFingerprint(e.publicKey) === t.hostFingerprint;
    await client.connect(webSocketToDuplex(new WebSocket(t.url)));
    if (!(await client.authenticate({ username: t.username, password: t.password }))) throw new Error('authentication failed');
    const seconds: number[] = [];
    for (let round = 0; round < t.rounds; round++) {
      const channel = await client.openChannel();
      const command = `${t.direction === 'server-to-client' ? 'download' : 'upload'} ${t.bytes}`;
      if (!(await channel.exec(command))) throw new Error(`${command} was refused`);
      const started = performance.now();
      if (t.direction === 'server-to-client') await download(channel, t.bytes);
      else await upload(channel, t.bytes, t.chunkSize);
      seconds.push((performance.now() - started) / 1000);
      await channel.close();
    }
    const cipher = client.algorithms?.encryptionClientToServer ?? '';
    await client.close();
    return { cipher, seconds };
  },
};

/**
 * The same bytes over a bare WebSocket, no SSH: the ceiling the browser's WebSocket sets on this
 * machine. `download`: the server sends `bytes` in frames of `chunkSize`; `upload`: the page does,
 * and the server answers one text frame once it has them all.
 */
async function rawTransfer(t: PageTransfer): Promise<PageOutcome> {
  const seconds: number[] = [];
  const chunk = new Uint8Array(t.chunkSize).map((_, i) => i * 7);
  for (let round = 0; round < t.rounds; round++) {
    const download = t.direction === 'server-to-client';
    const ws = new WebSocket(`${t.url}?${download ? 'download' : 'upload'}=${t.bytes}`);
    ws.binaryType = 'arraybuffer';
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const started = performance.now();
    const done = new Promise<void>((resolve, reject) => {
      let received = 0;
      ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
        if (typeof e.data === 'string') resolve();
        else if ((received += e.data.byteLength) >= t.bytes) resolve();
      };
      ws.onclose = () => reject(new Error('raw WebSocket closed early'));
    });
    if (!download) {
      for (let sent = 0; sent < t.bytes; sent += t.chunkSize) {
        ws.send(t.bytes - sent >= t.chunkSize ? chunk : chunk.subarray(0, t.bytes - sent));
        // The same backpressure rule as webSocketToDuplex: wait while more than 1 MiB is buffered.
        while (ws.bufferedAmount > 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    await done;
    seconds.push((performance.now() - started) / 1000);
    ws.onclose = null;
    ws.close();
  }
  return { cipher: 'none (bare WebSocket, no SSH)', seconds };
}

(globalThis as unknown as { sshBench: typeof bench & { rawTransfer: typeof rawTransfer } }).sshBench = { ...bench, rawTransfer };
