/**
 * Diagnostics of real sessions with OpenSSH's sshd (`config.trace`, `session.onTrace`): at `info`
 * the negotiated algorithms equal what sshd logs for the same connection and each authentication
 * step shows sshd's answers; at `debug` channel opens, sshd's window and packet sizes, its open
 * failure reason code, exit status, EOF and CLOSE; at `verbose` the message numbers we say we sent
 * are the ones sshd says it received, sshd's own re-key shows as started by the peer, and no event
 * holds the password, the key or the session secrets. Our server traced while OpenSSH's `ssh` logs
 * in shows the algorithms `ssh -v` reports and each step from the server's side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { SshWriter } from '../../lib/codec/wire.js';
import { exportPrivateKey, exportPublicKey, importKey, KeyFormat } from '../../lib/keys/index.js';
import type { KexOutcome } from '../../lib/transport/handshake.js';
import type { TraceEvent, TraceSetting } from '../../lib/trace/trace-event.js';
import { ensureTestUser, hostPublicKey, HOST_KEY_TYPES, runSsh, skipWithoutOpenSsh, startSshd } from '../helpers/openssh.js';
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import { getFreePort } from '../helpers/free-port.js';
import { connectClient, execText, startExecServer, type SshdForUser } from './interop-sessions.js';
import type { ServerSession } from '../../lib/server-session.js';
import { armouredLines, findLeaks, jwkPrivateParts } from '../trace/secret-scan.js';

const skip = skipWithoutOpenSsh();

function traced(trace: TraceSetting): { config: SessionConfig; events: TraceEvent[]; onTrace: (e: TraceEvent) => void } {
  const config = SessionConfig.default();
  config.trace = trace;
  const events: TraceEvent[] = [];
  return { config, events, onTrace: (e) => events.push(e) };
}

/** sshd's DEBUG1 line `kex: <what>: <value>` for the latest connection. */
function sshdKexLine(logs: string, what: string): string {
  const lines = [...logs.matchAll(new RegExp(`kex: ${what}: (.*)`, 'g'))];
  return lines.at(-1)![1]!.replace(/ \[preauth\]$/, '').trim();
}

describe.skipIf(skip)('OpenSSH interop: traced sessions with sshd and ssh', () => {
  let target: SshdForUser;

  beforeAll(async () => {
    // sshd re-keys on its own after 256 KiB, so a larger transfer shows a re-key the peer started.
    const user = ensureTestUser();
    const userKey = await generateKeyPair('ssh-ed25519');
    const sshd = await startSshd({ authorizedKeys: [await exportPublicKey(userKey)], logLevel: 'DEBUG3', extraConfig: ['RekeyLimit 256K'] });
    const hostKeys = await Promise.all(HOST_KEY_TYPES.map((type) => importKey(hostPublicKey(sshd, type))));
    target = { sshd, user, userKey, hostKeys };
  });
  afterAll(async () => {
    await target?.sshd.stop();
  });

  it('info: the algorithms sshd negotiated and each authentication step with sshd\'s answers', async () => {
    const { sshd, user, userKey, hostKeys } = target;
    const t = traced('info');
    const client = await connectClient(sshd.port, hostKeys, t.config, t.onTrace);
    try {
      expect(await client.authenticate({ username: user.username, password: 'not-the-password' })).toBe(false);
      expect(await client.authenticate({ username: user.username, privateKeys: [userKey] })).toBe(true);
      await sshd.waitForLog(/Accepted publickey/);
    } finally {
      await client.close();
    }
    expect(new Set(t.events.map((e) => e.level))).toEqual(new Set(['info']));
    expect(new Set(t.events.map((e) => e.category))).toEqual(new Set(['transport', 'kex', 'auth']));
    const done = t.events.find((e) => e.category === 'kex' && /completed/.test(e.message))!;
    const logs = sshd.logs();
    expect(done.kex).toBe(sshdKexLine(logs, 'algorithm'));
    expect(done.hostKeyAlgorithm).toBe(sshdKexLine(logs, 'host key algorithm'));
    const [c2s, s2c] = [sshdKexLine(logs, 'client->server cipher'), sshdKexLine(logs, 'server->client cipher')];
    expect(c2s).toMatch(new RegExp(`^${done.encryptionClientToServer} MAC: \\S+ compression: ${done.compressionClientToServer}$`));
    expect(s2c).toMatch(new RegExp(`^${done.encryptionServerToClient} MAC: \\S+ compression: ${done.compressionServerToClient}$`));
    expect(done.message).toContain(`client to server ${c2s.replace(/ MAC: | compression: /g, ' ')}`);
    expect(t.events.find((e) => e.category === 'transport')!.remoteVersion).toMatch(/^SSH-2\.0-OpenSSH_/);

    const auth = t.events.filter((e) => e.category === 'auth');
    const failures = auth.filter((e) => e.partialSuccess === false);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures[0]!.methodsThatCanContinue).toEqual(expect.arrayContaining(['publickey', 'password']));
    const steps = auth.map((e) => e.message);
    expect(steps).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Server host key accepted: /),
        `Authentication request: password for ${user.username}`,
        expect.stringMatching(/^No authentication method left to try \(tried none,password/),
        expect.stringMatching(/^Authentication query: publickey ssh-ed25519 SHA256:/),
        expect.stringMatching(/^Public key accepted for publickey/),
        expect.stringMatching(/^Authentication signed request: publickey/),
        expect.stringMatching(/^Authentication succeeded \(publickey/),
      ]),
    );
    expect(t.events.at(-1)).toMatchObject({ category: 'transport', reasonCode: 11, initiatedBy: 'local' });
  });

  it('debug: a command channel with sshd\'s window and packet sizes, exit status, EOF, CLOSE, and an open failure code', async () => {
    const { sshd, user, userKey, hostKeys } = target;
    const t = traced('debug');
    const client = await connectClient(sshd.port, hostKeys, t.config, t.onTrace);
    const closedPort = await getFreePort();
    try {
      expect(await client.authenticate({ username: user.username, privateKeys: [userKey] })).toBe(true);
      expect((await execText(client, 'echo traced')).stdout).toBe('traced\n');
      const data = new SshWriter().string('127.0.0.1').uint32(closedPort).string('127.0.0.1').uint32(40000).toBytes();
      await expect(client.openChannel('direct-tcpip', { data })).rejects.toThrow();
    } finally {
      await client.close();
    }
    expect(t.events.some((e) => e.category === 'message')).toBe(false);
    const channel = t.events.filter((e) => e.category === 'channel');
    // OpenSSH confirms a session channel with an empty window (it grants 2 MiB once the command
    // runs) and 32 KiB packets.
    expect(channel.find((e) => /open confirmation received/.test(e.message))).toMatchObject({ localChannel: 0, initialWindowSize: 0, maximumPacketSize: 32768 });
    expect(t.events.find((e) => e.requestType === 'exec')).toMatchObject({ direction: 'out', wantReply: true });
    expect(t.events.find((e) => e.requestType === 'exit-status')).toMatchObject({ direction: 'in', exitStatus: 0 });
    expect(channel.some((e) => e.message === 'Channel EOF received (local channel 0)')).toBe(true);
    expect(channel.some((e) => e.message === 'Channel CLOSE received (local channel 0)')).toBe(true);
    expect(channel.find((e) => e.channelType === 'direct-tcpip')).toMatchObject({ direction: 'out', localChannel: 1 });
    expect(channel.find((e) => e.reasonCode !== undefined)).toMatchObject({ direction: 'in', localChannel: 1, reasonCode: 2, reason: 'connectFailed' });
    // sshd announces its host keys after authentication (OpenSSH PROTOCOL §2.5).
    expect(t.events.some((e) => e.category === 'request' && e.requestType === 'hostkeys-00@openssh.com' && e.direction === 'in')).toBe(true);
  });

  it('verbose: the message numbers we sent are the ones sshd received; sshd\'s re-key and ours; no secret', async () => {
    const { sshd, user, userKey, hostKeys } = target;
    const t = traced('verbose');
    const outcomes: KexOutcome[] = [];
    const config = t.config;
    const client = await connectClient(sshd.port, hostKeys, config, t.onTrace);
    client.onKeyExchange = (o) => outcomes.push(o);
    const logStart = sshd.logs().length;
    let secrets;
    try {
      expect(await client.authenticate({ username: user.username, password: user.password })).toBe(true);
      const big = await execText(client, 'head -c 600000 /dev/zero | tr "\\0" x');
      expect(big.stdout.length).toBe(600000);
      await client.rekey();
      const keys = (client as unknown as { transport: { integrityKeys: { clientToServer: Uint8Array; serverToClient: Uint8Array } } }).transport.integrityKeys;
      secrets = [
        { name: 'password', value: user.password },
        { name: 'session id', value: client.sessionId! },
        ...outcomes.map((o, i) => ({ name: `exchange hash ${i}`, value: o.exchangeHash })),
        { name: 'integrity key c2s', value: keys.clientToServer },
        { name: 'integrity key s2c', value: keys.serverToClient },
        ...jwkPrivateParts(await exportPrivateKey(userKey, KeyFormat.Jwk)),
        ...armouredLines(await exportPrivateKey(userKey, KeyFormat.OpenSsh)),
      ];
    } finally {
      await client.close();
    }
    expect(findLeaks(t.events, secrets!)).toEqual([]);
    const messages = t.events.filter((e) => e.category === 'message');
    expect(messages.find((e) => e.direction === 'in' && e.messageName === 'ChannelData')).toMatchObject({ messageType: 94 });
    expect(messages.filter((e) => e.direction === 'in' && e.messageType === 94).reduce((n, e) => n + (e.length as number) - 9, 0)).toBe(600000);
    const rekeys = t.events.filter((e) => e.category === 'kex' && e.rekey === true && /started/.test(e.message));
    expect(rekeys.some((e) => e.initiatedBy === 'remote' && (e.bytesReceived as number) > 0)).toBe(true);
    expect(rekeys.at(-1)).toMatchObject({ initiatedBy: 'local' });
    expect(t.events.filter((e) => e.category === 'kex' && /^Re-key completed/.test(e.message)).length).toBe(rekeys.length);

    // At DEBUG3 sshd logs the type of each packet it reads from its first NEWKEYS on: the tail of
    // our outbound trace, in order, ending with our DISCONNECT.
    for (let i = 0; i < 200 && !/receive packet: type 1\b/.test(sshd.logs().slice(logStart)); i++) await new Promise((r) => setTimeout(r, 50));
    const received = [...sshd.logs().slice(logStart).matchAll(/receive packet: type (\d+)/g)].map((m) => Number(m[1]));
    const sent = messages.filter((e) => e.direction === 'out').map((e) => e.messageType);
    expect(received.length).toBeGreaterThan(10);
    expect(sent.slice(sent.length - received.length)).toEqual(received);
  });

  it('debug on our server while OpenSSH ssh logs in: the algorithms ssh reports, each step from the server side, no password', async () => {
    const hostKey = await generateKeyPair('ssh-ed25519');
    const t = traced('debug');
    const password = 'server-Side-Secret-6612';
    const sessions: ServerSession[] = [];
    let result: Awaited<ReturnType<typeof runSsh>>;
    const server = await startExecServer({
      hostKeys: [hostKey],
      config: t.config,
      onAuthenticating: (e) => e.authenticationType === 'password' && e.password === password,
      onSession: (session) => {
        sessions.push(session);
        session.onTrace = t.onTrace;
      },
    });
    try {
      result = await runSsh(['echo', 'traced-by-server'], { port: server.port, password, authentication: 'password' });
      expect(result.stdout, result.stderr).toBe('traced-by-server\n');
      await sessions[0]!.closed.catch(() => {});
    } finally {
      await server.close();
    }
    const done = t.events.find((e) => e.category === 'kex' && /completed/.test(e.message))!;
    const negotiated = result!.negotiated;
    expect(done).toMatchObject({
      kex: negotiated.kex,
      hostKeyAlgorithm: negotiated.hostKey,
      encryptionClientToServer: negotiated.clientToServer?.cipher,
      encryptionServerToClient: negotiated.serverToClient?.cipher,
    });
    // Each direction as `ssh -v` prints it: cipher, MAC (`<implicit>` under AEAD), compression.
    for (const [name, d] of [['client to server', negotiated.clientToServer!], ['server to client', negotiated.serverToClient!]] as const) {
      expect(done.message).toContain(`${name} ${d.cipher} ${d.mac} ${d.compression}`);
    }
    expect(t.events.find((e) => e.category === 'transport')!.remoteVersion).toMatch(/^SSH-2\.0-OpenSSH_/);
    const auth = t.events.filter((e) => e.category === 'auth' && e.level === 'info').map((e) => `${e.direction} ${e.message}`);
    expect(auth).toEqual(expect.arrayContaining(['in Authentication request: password for sshstreams', 'out Authentication succeeded (password)']));
    expect(t.events.some((e) => e.channelType === 'session' && e.direction === 'in')).toBe(true);
    expect(t.events.some((e) => e.requestType === 'exec' && e.direction === 'in' && e.wantReply === true)).toBe(true);
    expect(t.events.some((e) => e.requestType === 'exit-status' && e.direction === 'out' && e.exitStatus === 0)).toBe(true);
    expect(findLeaks(t.events, [{ name: 'password', value: password }])).toEqual([]);
  });
});
