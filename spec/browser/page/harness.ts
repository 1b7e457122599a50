/**
 * The code a Chromium page runs in the browser specs, bundled with esbuild for the browser (so it
 * takes the library's `browser` build): an SSH client and an SSH server over WebSockets, and key
 * round-trips. Each scenario is a function on `window.sshHarness` that the spec calls with
 * `page.evaluate` and that returns plain data for the spec to check.
 */
import {
  ClientSession,
  ServerSession,
  SessionConfig,
  generateKeyPair,
  webSocketToDuplex,
  type Channel,
  type KeyPair,
  type PublicKeyAlgorithmName,
} from '../../../lib/index.browser.js';
import { KeyFormat, exportPrivateKey, exportPublicKey, getFingerprint, importKey } from '../../../lib/keys/index.browser.js';

/** What `runClient` does. */
export interface ClientScenario {
  url: string;
  username: string;
  /** The server's host key fingerprint (`SHA256:...`) the page must see. */
  hostFingerprint: string;
  /** Password authentication, or the key made by `makeUserKey`. */
  password?: string;
  usePageKey?: boolean;
  command: string;
  /** The client's cipher preference (default the library's). */
  encryptionAlgorithms?: string[];
  /** Bytes to send through `cat` and check (0 skips). */
  catBytes: number;
}

/** What `runClient` saw. */
export interface ClientOutcome {
  hostKeyFingerprint: string;
  hostKeyAccepted: boolean;
  authenticated: boolean;
  kex: string;
  cipher: string;
  stdout: string;
  exitStatus: number | undefined;
  catSentSha256: string;
  catReceivedSha256: string;
  catReceivedBytes: number;
  catMegabytesPerSecond: number;
}

let pageKey: KeyPair | undefined;

const hex = (bytes: ArrayBuffer): string => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Deterministic bytes (xorshift32), so the page needs no large transfer from the spec. */
function patternBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, length >>> 2);
  let x = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

async function readText(readable: ReadableStream<Uint8Array>): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of readable) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** Sends `data` through a `cat` channel and reads it back, concurrently. */
async function throughCat(channel: Channel, data: Uint8Array): Promise<{ received: Uint8Array; seconds: number }> {
  const started = performance.now();
  const writing = (async () => {
    const writer = channel.writable.getWriter();
    for (let at = 0; at < data.length; at += 256 * 1024) await writer.write(data.subarray(at, at + 256 * 1024));
    await writer.close();
  })();
  const received = new Uint8Array(data.length + 1024);
  let filled = 0;
  for await (const chunk of channel.readable) {
    if (filled + chunk.length > received.length) throw new Error(`cat returned more than the ${data.length} bytes sent`);
    received.set(chunk, filled);
    filled += chunk.length;
  }
  await writing;
  return { received: received.subarray(0, filled), seconds: (performance.now() - started) / 1000 };
}

const harness = {
  /** Generates the page's user key and returns its public half as an authorized_keys line. */
  async makeUserKey(type: PublicKeyAlgorithmName): Promise<string> {
    pageKey = await generateKeyPair(type, { comment: 'made in chromium' });
    return exportPublicKey(pageKey, KeyFormat.Ssh);
  },

  /** Connects as a client through the WebSocket bridge, runs a command and pushes bytes through cat. */
  async runClient(scenario: ClientScenario): Promise<ClientOutcome> {
    const config = SessionConfig.default();
    if (scenario.encryptionAlgorithms) config.encryptionAlgorithms = scenario.encryptionAlgorithms;
    const client = new ClientSession(config);
    let hostKeyFingerprint = '';
    let hostKeyAccepted = false;
    client.onAuthenticating = async (e) => {
      hostKeyFingerprint = getFingerprint(e.publicKey!);
      hostKeyAccepted = hostKeyFingerprint === scenario.hostFingerprint;
      return hostKeyAccepted;
    };
    await client.connect(webSocketToDuplex(new WebSocket(scenario.url)));
    const authenticated = await client.authenticate(
      scenario.usePageKey ? { username: scenario.username, privateKeys: [pageKey!] } : { username: scenario.username, password: scenario.password! },
    );
    const outcome: ClientOutcome = {
      hostKeyFingerprint,
      hostKeyAccepted,
      authenticated,
      kex: client.algorithms?.kex ?? '',
      cipher: client.algorithms?.encryptionClientToServer ?? '',
      stdout: '',
      exitStatus: undefined,
      catSentSha256: '',
      catReceivedSha256: '',
      catReceivedBytes: 0,
      catMegabytesPerSecond: 0,
    };
    if (authenticated) {
      const exec = await client.openChannel();
      if (!(await exec.exec(scenario.command))) throw new Error(`exec ${scenario.command} was refused`);
      exec.writable.close().catch(() => undefined);
      outcome.stdout = await readText(exec.readable);
      outcome.exitStatus = (await exec.closed).exitStatus;
      if (scenario.catBytes > 0) {
        const data = patternBytes(scenario.catBytes);
        const cat = await client.openChannel();
        if (!(await cat.exec('cat'))) throw new Error('exec cat was refused');
        const { received, seconds } = await throughCat(cat, data);
        outcome.catSentSha256 = hex(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
        outcome.catReceivedSha256 = hex(await crypto.subtle.digest('SHA-256', received as Uint8Array<ArrayBuffer>));
        outcome.catReceivedBytes = received.length;
        outcome.catMegabytesPerSecond = data.length / 1e6 / seconds;
      }
    }
    await client.close();
    return outcome;
  },

  /**
   * Serves SSH from the page: opens `connections` WebSockets to the bridge's listening side, one
   * session each. Password `secret` for any user; `echo-page` prints a line, `cat` echoes, `exit N`
   * exits with N. Returns the host key as a known_hosts key and its fingerprint.
   */
  async serve(url: string, connections: number): Promise<{ publicKey: string; fingerprint: string }> {
    const hostKey = await generateKeyPair('ecdsa-sha2-nistp256');
    for (let i = 0; i < connections; i++) void serveOne(new WebSocket(url), hostKey);
    return { publicKey: await exportPublicKey(hostKey, KeyFormat.Ssh), fingerprint: getFingerprint(hostKey) };
  },

  /** Sessions the page served to the end, and the first error of one that failed. */
  served: { completed: 0, failures: [] as string[] },

  /** Generates each key type, exports it in every format and imports it back. */
  async keyRoundTrips(): Promise<{ type: string; format: string; samePublicKey: boolean; signatureVerifies: boolean }[]> {
    const results = [];
    const types: PublicKeyAlgorithmName[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512'];
    for (const type of types) {
      const key = await generateKeyPair(type, type === 'rsa-sha2-512' ? { keySize: 2048 } : {});
      const formats = [
        KeyFormat.OpenSsh,
        KeyFormat.Pkcs8,
        KeyFormat.Jwk,
        ...(type === 'rsa-sha2-512' ? [KeyFormat.Pkcs1] : []),
        ...(type.startsWith('ecdsa') ? [KeyFormat.Sec1] : []),
      ];
      for (const format of formats) {
        for (const passphrase of format === KeyFormat.Jwk || format === KeyFormat.Sec1 || format === KeyFormat.Pkcs1 ? [undefined] : [undefined, 'page secret']) {
          const text = await exportPrivateKey(key, format, passphrase);
          const back = await importKey(text, passphrase);
          const data = new TextEncoder().encode(`signed in the page as ${type} ${format}`);
          const algorithm = back.algorithms[0]!;
          const signature = await back.sign(algorithm, data);
          results.push({
            type,
            format: `${format}${passphrase ? ' (encrypted)' : ''}`,
            samePublicKey: (await exportPublicKey(back, KeyFormat.Ssh)) === (await exportPublicKey(key, KeyFormat.Ssh)),
            signatureVerifies: await key.verify(data, signature, [algorithm]),
          });
        }
      }
      const publicOnly = await importKey(await exportPublicKey(key, KeyFormat.Ssh));
      results.push({ type, format: 'ssh public', samePublicKey: publicOnly.equals(key), signatureVerifies: true });
    }
    return results;
  },
};

async function serveOne(ws: WebSocket, hostKey: KeyPair): Promise<void> {
  try {
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [hostKey] });
    server.onAuthenticating = (e) => e.authenticationType === 'password' && e.password === 'secret';
    await server.connect(webSocketToDuplex(ws));
    for await (const channel of server.channels) {
      channel.onRequest = (e) => {
        if (e.requestType !== 'exec') return false;
        void runCommand(channel, e.command ?? '');
        return true;
      };
    }
    await server.closed.catch(() => undefined);
    harness.served.completed++;
  } catch (error) {
    harness.served.failures.push(String(error));
  }
}

/** The page server's commands, run after the exec reply went out (a task later, not a microtask). */
async function runCommand(channel: Channel, command: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (command === 'cat') {
    await channel.readable.pipeTo(channel.writable, { preventClose: true });
    await channel.close({ exitStatus: 0 });
    return;
  }
  const writer = channel.writable.getWriter();
  const exit = /^exit (\d+)$/.exec(command);
  if (command === 'echo-page') await writer.write(new TextEncoder().encode(`hello from ${navigator.userAgent.includes('Chrome') ? 'chromium' : 'a page'}\n`));
  writer.releaseLock();
  await channel.close({ exitStatus: exit ? Number(exit[1]) : command === 'echo-page' ? 0 : 127 });
}

(globalThis as unknown as { sshHarness: typeof harness }).sshHarness = harness;
