/**
 * The library in a real browser: Debian's Chromium (headless, fresh profile) loads the harness
 * bundled for the browser and (1) as a client reaches our Node server and OpenSSH's sshd through a
 * WebSocket↔TCP bridge: host key check, password and public-key auth with a key made in the
 * page, exec output and exit status, 8 MiB through `cat` checked with SHA-256 in the page;
 * (2) as a server is reached by our Node client and by OpenSSH's `ssh` through the bridge;
 * (3) generates, exports and imports keys of every type.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientSession } from '../../lib/client-session.js';
import { SessionConfig } from '../../lib/config.js';
import { getFingerprint } from '../../lib/keys/fingerprint.js';
import { importKey } from '../../lib/keys/import-key.js';
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import { serveExec } from '../../lib/session/exec.js';
import { TcpServer, socketToDuplex } from '../../lib/tcp/index.js';
import { ensureTestUser, hostPublicKey, runSsh, skipWithoutOpenSsh, startSshd, type Sshd } from '../helpers/openssh.js';
import { startBridge, type Bridge } from './bridge.js';
import { openHarnessPage, skipWithoutChromium, type HarnessPage } from './chromium.js';
import type { ClientOutcome, ClientScenario } from './page/harness.js';

const CAT_BYTES = 8 * 1024 * 1024;
const skip = skipWithoutChromium() || skipWithoutOpenSsh();

describe.skipIf(skip)('ssh-streams in Chromium', () => {
  let harness: HarnessPage;
  let bridge: Bridge;
  const speeds: string[] = [];

  const runClient = (scenario: ClientScenario): Promise<ClientOutcome> =>
    harness.page.evaluate((s) => (globalThis as any).sshHarness.runClient(s), scenario);

  beforeAll(async () => {
    [harness, bridge] = await Promise.all([openHarnessPage(), startBridge()]);
  }, 120_000);

  afterAll(async () => {
    const served = await harness?.page.evaluate(() => (globalThis as any).sshHarness.served).catch(() => undefined);
    if (served?.failures.length) console.log(`The page's server sessions failed: ${served.failures.join('; ')}\n${harness.console.join('\n')}`);
    if (speeds.length > 0) console.log(`Chromium throughput through one channel (8 MiB through cat):\n  ${speeds.join('\n  ')}`);
    await Promise.all([harness?.close(), bridge?.close()]);
  });

  describe('as a client', () => {
    let server: TcpServer;
    let port: number;
    let hostFingerprint: string;
    let pageKeyLine: string;

    beforeAll(async () => {
      const hostKey = await generateKeyPair('ssh-ed25519');
      hostFingerprint = getFingerprint(hostKey);
      pageKeyLine = await harness.page.evaluate(() => (globalThis as any).sshHarness.makeUserKey('ecdsa-sha2-nistp256'));
      const pageKey = await importKey(pageKeyLine);
      server = new TcpServer(SessionConfig.default());
      server.credentials = { hostKeys: [hostKey] };
      server.onSessionAuthenticating = (e) =>
        e.username === 'web' && ((e.authenticationType === 'password' && e.password === 'secret') || (e.authenticationType === 'publickey' && e.publicKey!.equals(pageKey)));
      server.onSessionOpened = (session) => {
        void (async () => {
          for await (const channel of session.channels) serveExec(channel);
        })();
      };
      await server.listen(0, '127.0.0.1');
      port = server.port!;
    });

    afterAll(() => server?.close());

    it('reaches our Node server with a password: host key, exec, exit status, 8 MiB through cat', async () => {
      const outcome = await runClient({
        url: `${bridge.url}/tcp/${port}`,
        username: 'web',
        password: 'secret',
        hostFingerprint,
        command: 'echo from node; exit 3',
        catBytes: CAT_BYTES,
      });
      expect(outcome).toMatchObject({ hostKeyFingerprint: hostFingerprint, hostKeyAccepted: true, authenticated: true, stdout: 'from node\n', exitStatus: 3 });
      expect(outcome.catReceivedBytes).toBe(CAT_BYTES);
      expect(outcome.catReceivedSha256).toBe(outcome.catSentSha256);
      speeds.push(`our Node server, ${outcome.kex}, ${outcome.cipher}: ${outcome.catMegabytesPerSecond.toFixed(1)} MB/s`);
    });

    it('moves 8 MiB through cat with chacha20-poly1305, the faster cipher in JavaScript', async () => {
      const outcome = await runClient({
        url: `${bridge.url}/tcp/${port}`,
        username: 'web',
        password: 'secret',
        hostFingerprint,
        command: 'true',
        encryptionAlgorithms: ['chacha20-poly1305@openssh.com'],
        catBytes: CAT_BYTES,
      });
      expect(outcome).toMatchObject({ authenticated: true, cipher: 'chacha20-poly1305@openssh.com', exitStatus: 0, catReceivedBytes: CAT_BYTES });
      expect(outcome.catReceivedSha256).toBe(outcome.catSentSha256);
      speeds.push(`our Node server, ${outcome.kex}, ${outcome.cipher}: ${outcome.catMegabytesPerSecond.toFixed(1)} MB/s`);
    });

    it('reaches our Node server with a key generated in the page', async () => {
      const outcome = await runClient({ url: `${bridge.url}/tcp/${port}`, username: 'web', usePageKey: true, hostFingerprint, command: 'echo key', catBytes: 0 });
      expect(outcome).toMatchObject({ hostKeyAccepted: true, authenticated: true, stdout: 'key\n', exitStatus: 0 });
    });

    it('refuses a server whose host key is not the pinned one', async () => {
      const other = getFingerprint(await generateKeyPair('ssh-ed25519'));
      await expect(runClient({ url: `${bridge.url}/tcp/${port}`, username: 'web', password: 'secret', hostFingerprint: other, command: 'true', catBytes: 0 })).rejects.toThrow(/host key|HostKeyError/i);
    });
  });

  describe('as a client of OpenSSH sshd', () => {
    let sshd: Sshd;
    let user: ReturnType<typeof ensureTestUser>;
    let hostFingerprint: string;

    beforeAll(async () => {
      user = ensureTestUser();
      const pageKeyLine = await harness.page.evaluate(() => (globalThis as any).sshHarness.makeUserKey('ssh-ed25519'));
      sshd = await startSshd({ hostKeyTypes: ['ssh-ed25519'], authorizedKeys: [pageKeyLine] });
      hostFingerprint = getFingerprint(await importKey(hostPublicKey(sshd, 'ssh-ed25519')));
    }, 60_000);

    afterAll(() => sshd?.stop());

    it('authenticates with a password, runs a command, and moves 8 MiB through cat', async () => {
      const outcome = await runClient({
        url: `${bridge.url}/tcp/${sshd.port}`,
        username: user.username,
        password: user.password,
        hostFingerprint,
        command: 'echo "from sshd as $(whoami)"; exit 7',
        catBytes: CAT_BYTES,
      });
      expect(outcome).toMatchObject({ hostKeyAccepted: true, authenticated: true, stdout: `from sshd as ${user.username}\n`, exitStatus: 7 });
      expect(outcome.catReceivedBytes).toBe(CAT_BYTES);
      expect(outcome.catReceivedSha256).toBe(outcome.catSentSha256);
      speeds.push(`OpenSSH sshd, ${outcome.kex}, ${outcome.cipher}: ${outcome.catMegabytesPerSecond.toFixed(1)} MB/s`);
    });

    it('authenticates with an ed25519 key generated in the page', async () => {
      const outcome = await runClient({ url: `${bridge.url}/tcp/${sshd.port}`, username: user.username, usePageKey: true, hostFingerprint, command: 'echo key', catBytes: 0 });
      expect(outcome).toMatchObject({ hostKeyAccepted: true, authenticated: true, stdout: 'key\n', exitStatus: 0 });
    });
  });

  describe('as a server', () => {
    let served: { publicKey: string; fingerprint: string };

    beforeAll(async () => {
      // One session for our Node client, two for OpenSSH's ssh.
      served = await harness.page.evaluate((url) => (globalThis as any).sshHarness.serve(url, 3), `${bridge.url}/listen`);
    });

    it('is reached by our Node client: host key, password, exec, exit status, 4 MiB echoed', async () => {
      const socket = connect({ host: '127.0.0.1', port: bridge.listenPort });
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const client = new ClientSession(SessionConfig.default());
      let seen = '';
      client.onAuthenticating = (e) => (seen = getFingerprint(e.publicKey!)) === served.fingerprint;
      await client.connect(socketToDuplex(socket));
      expect(seen).toBe(served.fingerprint);
      expect(await client.authenticate({ username: 'anyone', password: 'secret' })).toBe(true);

      const hello = await client.openChannel();
      expect(await hello.exec('echo-page')).toBe(true);
      let text = '';
      for await (const chunk of hello.readable) text += Buffer.from(chunk).toString();
      expect(text).toBe('hello from chromium\n');
      expect((await hello.closed).exitStatus).toBe(0);

      const exit = await client.openChannel();
      expect(await exit.exec('exit 42')).toBe(true);
      for await (const chunk of exit.readable) expect(chunk).toBeUndefined();
      expect((await exit.closed).exitStatus).toBe(42);

      const cat = await client.openChannel();
      expect(await cat.exec('cat')).toBe(true);
      const data = Buffer.alloc(256 * 1024, createHash('sha512').update('page').digest());
      const sent = createHash('sha256');
      const writing = (async () => {
        const writer = cat.writable.getWriter();
        for (let i = 0; i < (4 * 1024 * 1024) / data.length; i++) {
          sent.update(data);
          await writer.write(data);
        }
        await writer.close();
      })();
      const received = createHash('sha256');
      let count = 0;
      for await (const chunk of cat.readable) {
        received.update(chunk);
        count += chunk.length;
      }
      await writing;
      expect(count).toBe(4 * 1024 * 1024);
      expect(received.digest('hex')).toBe(sent.digest('hex'));
      await client.close();
    });

    it("is reached by OpenSSH's ssh, which checks the page's host key", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ssh-streams-known-hosts-'));
      try {
        const knownHosts = join(dir, 'known_hosts');
        writeFileSync(knownHosts, `[127.0.0.1]:${bridge.listenPort} ${served.publicKey}\n`);
        const options = { StrictHostKeyChecking: 'yes', UserKnownHostsFile: knownHosts };
        const hello = await runSsh(['echo-page'], { port: bridge.listenPort, user: 'ssh', password: 'secret', authentication: 'password', options });
        expect(hello.stderr).not.toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
        expect(hello).toMatchObject({ exitCode: 0, stdout: 'hello from chromium\n' });
        const input = createHash('sha512').update('ssh').digest().toString('hex').repeat(4096);
        const cat = await runSsh(['cat'], { port: bridge.listenPort, user: 'ssh', password: 'secret', authentication: 'password', options, input });
        expect(cat.exitCode).toBe(0);
        expect(cat.stdout).toBe(input);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('generates, exports and imports keys of every type in the page', async () => {
    const results = await harness.page.evaluate(() => (globalThis as any).sshHarness.keyRoundTrips());
    expect(results.length).toBeGreaterThan(20);
    for (const result of results) expect(result, `${result.type} ${result.format}`).toMatchObject({ samePublicKey: true, signatureVerifies: true });
  });
});
