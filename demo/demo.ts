/**
 * The ssh-streams demo: an SSH server and client from this library talking over 127.0.0.1 TCP.
 * It runs a command with exec, streams a file through a channel with pipeThrough/pipeTo while
 * printing progress, checks the SHA-256 that comes back, then keeps the server running so that
 * OpenSSH's own `ssh` can log in to it. `--exit` stops after the client part.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SessionConfig, generateKeyPair, serveExec, type KeyPair } from '../lib/index.node.js';
import { KeyFormat, exportPrivateKey, getFingerprint, importKey } from '../lib/keys/index.node.js';
import { TcpClient, TcpServer } from '../lib/tcp/index.js';

const USER = 'demo';
const PASSWORD = 'demo';
const stateDir = join(process.cwd(), '.demo');

/** The server's host key, generated on the first run and kept in .demo/ (OpenSSH format). */
async function loadHostKey(): Promise<KeyPair> {
  const path = join(stateDir, 'ssh_host_ed25519_key');
  if (existsSync(path)) return importKey(readFileSync(path, 'utf8'));
  mkdirSync(stateDir, { recursive: true });
  const key = await generateKeyPair('ssh-ed25519', { comment: 'ssh-streams demo host key' });
  writeFileSync(path, await exportPrivateKey(key, KeyFormat.OpenSsh), { mode: 0o600 });
  console.log(`Generated a host key in ${path}`);
  return key;
}

/** A sample file to stream: 32 MiB of pseudo-random bytes, made once. */
function sampleFile(): string {
  const path = join(stateDir, 'sample.bin');
  if (!existsSync(path) || statSync(path).size !== 32 * 1024 * 1024) {
    const block = createHash('sha512');
    const out = Buffer.alloc(32 * 1024 * 1024);
    for (let at = 0; at < out.length; at += 64) out.set(block.copy().update(String(at)).digest(), at);
    writeFileSync(path, out);
  }
  return path;
}

/** A TransformStream that counts bytes and redraws a progress line. */
function progress(label: string, total: number): TransformStream<Uint8Array, Uint8Array> {
  let done = 0;
  let drawn = 0;
  const started = performance.now();
  const draw = () => {
    const seconds = (performance.now() - started) / 1000;
    const mb = done / 1024 / 1024;
    process.stdout.write(`\r  ${label}: ${mb.toFixed(1)} / ${(total / 1024 / 1024).toFixed(1)} MiB  ${(mb / Math.max(seconds, 1e-3)).toFixed(0)} MiB/s   `);
  };
  return new TransformStream({
    transform(chunk, controller) {
      done += chunk.length;
      // Redraw at most ten times a second.
      if (performance.now() - drawn > 100) {
        drawn = performance.now();
        draw();
      }
      controller.enqueue(chunk);
    },
    flush() {
      draw();
      process.stdout.write('\n');
    },
  });
}

async function text(readable: ReadableStream<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of readable.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)) out += chunk;
  return out;
}

async function main(): Promise<void> {
  const exitAfterClient = process.argv.includes('--exit');
  const hostKey = await loadHostKey();

  const server = new TcpServer(SessionConfig.default());
  server.credentials = { hostKeys: [hostKey] };
  server.onSessionAuthenticating = (e) => e.username === USER && e.password === PASSWORD;
  server.onSessionOpened = (session) => {
    void (async () => {
      for await (const channel of session.channels) {
        serveExec(channel, { env: { ...process.env, SSH_STREAMS_DEMO: `served by ssh-streams to ${session.username}` } });
      }
    })();
  };
  const wanted = Number(process.env.DEMO_PORT ?? 2222);
  try {
    await server.listen(wanted, '127.0.0.1');
  } catch {
    await server.listen(0, '127.0.0.1');
  }
  const port = server.port!;
  console.log(`ssh-streams server listening on 127.0.0.1:${port}, host key ${getFingerprint(hostKey)}`);

  const client = new TcpClient(SessionConfig.default());
  client.onSessionAuthenticating = (e) => e.publicKey.equals(hostKey);
  const session = await client.openSession('127.0.0.1', port);
  const a = session.algorithms!;
  console.log(`Client connected: ${a.kex}, ${a.serverHostKey}, ${a.encryptionClientToServer}`);
  if (!(await session.authenticate({ username: USER, password: PASSWORD }))) throw new Error('Authentication failed');
  console.log(`Authenticated as ${USER} with ${session.authentication!.method}`);

  const command = await session.openChannel();
  await command.exec('echo "hello from $(uname -sr) via exec"; echo "(stderr works too)" >&2');
  await command.writable.close();
  const [stdout, stderr] = await Promise.all([text(command.readable), text(command.stderr)]);
  const { exitStatus } = await command.closed;
  console.log(`exec -> stdout: ${stdout.trim()} | stderr: ${stderr.trim()} | exit status ${exitStatus}`);

  const file = sampleFile();
  const size = statSync(file).size;
  const expected = createHash('sha256').update(readFileSync(file)).digest('hex');
  const echo = await session.openChannel();
  await echo.exec('cat');
  const hash = createHash('sha256');
  const [, ] = await Promise.all([
    (Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>)
      .pipeThrough(progress('upload through the channel', size))
      .pipeTo(echo.writable),
    echo.readable.pipeTo(new WritableStream({ write: (chunk) => void hash.update(chunk) })),
  ]);
  const got = hash.digest('hex');
  console.log(`cat echoed ${size} bytes back; SHA-256 ${got === expected ? 'matches' : 'DOES NOT MATCH'} (${got.slice(0, 16)}...)`);
  console.log(`Traffic: ${session.metrics.bytesSent} bytes sent, ${session.metrics.bytesReceived} received, ${session.metrics.keyExchanges} key exchange(s)`);
  await session.close();
  if (got !== expected) process.exitCode = 1;

  if (exitAfterClient) {
    await server.close();
    return;
  }
  console.log('\nThe server keeps running. Log in with OpenSSH (password "demo"):');
  console.log(`  ssh -p ${port} -o StrictHostKeyChecking=accept-new ${USER}@127.0.0.1 'uname -a; echo $SSH_STREAMS_DEMO'`);
  console.log(`  ssh -T -p ${port} ${USER}@127.0.0.1        # a shell without a terminal: type commands, Ctrl+D to leave`);
  console.log('Press Ctrl+C to stop.');
  process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
