/**
 * `config.trace` / `session.onTrace`: what each level reports on real sessions over in-memory
 * pipes (info: versions, algorithms, authentication, disconnects; debug: channels and requests;
 * verbose: every message), that `off` builds nothing, reconnection events, a throwing handler,
 * and garbage through the message describer (never a throw).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import { SessionConfig } from '../../lib/config.js';
import { SshError } from '../../lib/errors.js';
import { createTracer, Tracer } from '../../lib/trace/tracer.js';
import type { TraceEvent, TraceSetting } from '../../lib/trace/trace-event.js';
import { duplexPair, type ByteDuplex } from '../helpers/pipes.js';
import { faultyDuplex } from '../helpers/faults.js';
import { testHostKey } from '../helpers/pairs.js';
import { generateKeyPair } from '../../lib/keys/key-pair.js';

const encoder = new TextEncoder();

function configAt(trace: TraceSetting, base = SessionConfig.default()): SessionConfig {
  base.trace = trace;
  return base;
}

/** A pair at `trace` whose events go to one list; the client authenticates, opens, sends, closes. */
async function runSession(trace: TraceSetting): Promise<{ client: TraceEvent[]; server: TraceEvent[]; clientSession: ClientSession }> {
  const hostKey = await testHostKey();
  const [a, b] = duplexPair();
  const client = new ClientSession(configAt(trace));
  const server = new ServerSession(configAt(trace), { hostKeys: [hostKey] });
  const events = { client: [] as TraceEvent[], server: [] as TraceEvent[] };
  client.onTrace = (e) => events.client.push(e);
  server.onTrace = (e) => events.server.push(e);
  client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
  server.onAuthenticating = (e) => e.password === 'secret';
  server.onChannelOpening = (e) => {
    if (e.channel.channelType !== 'session') e.reject(1, 'Only sessions here');
  };
  await Promise.all([client.connect(a), server.connect(b)]);
  expect(await client.authenticate({ username: 'user', password: 'wrong' })).toBe(false);
  expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
  await expect(client.openChannel('x-unknown')).rejects.toThrow(/Only sessions here/);
  const accepted = server.acceptChannel();
  const channel = await client.openChannel();
  const served = await accepted;
  const writer = channel.writable.getWriter();
  await writer.write(encoder.encode('hello'));
  await served.readable.getReader().read();
  await served.close({ exitStatus: 0 });
  await channel.closed;
  await client.close();
  await server.closed.catch(() => {});
  return { ...events, clientSession: client };
}

const categories = (events: readonly TraceEvent[]): Set<string> => new Set(events.map((e) => e.category));

describe('config.trace levels', () => {
  it('off: onTrace is never called and no tracer exists', async () => {
    const { client, server, clientSession } = await runSession('off');
    expect(client).toEqual([]);
    expect(server).toEqual([]);
    expect((clientSession as unknown as { tracer: unknown }).tracer).toBeUndefined();
    expect(createTracer('off', () => {})).toBeUndefined();
    expect(createTracer(undefined, () => {})).toBeUndefined();
  });

  it('info: versions, negotiated algorithms, each authentication step and the disconnect; no channels or messages', async () => {
    const { client, server, clientSession } = await runSession('info');
    expect(client.every((e) => e.level === 'info') && server.every((e) => e.level === 'info')).toBe(true);
    expect([...categories(client)].sort()).toEqual(['auth', 'kex', 'transport']);
    const algorithms = clientSession.algorithms!;
    for (const side of [client, server]) {
      const done = side.find((e) => e.category === 'kex' && /completed/.test(e.message))!;
      expect(done).toMatchObject({
        kex: algorithms.kex,
        hostKeyAlgorithm: algorithms.serverHostKey,
        encryptionClientToServer: algorithms.encryptionClientToServer,
        encryptionServerToClient: algorithms.encryptionServerToClient,
        macClientToServer: algorithms.macClientToServer,
        macServerToClient: algorithms.macServerToClient,
        compressionClientToServer: algorithms.compressionClientToServer,
        compressionServerToClient: algorithms.compressionServerToClient,
        strictKex: true,
        rekey: false,
      });
      expect(done.hostKeyFingerprint).toMatch(/^SHA256:/);
    }
    expect(client.find((e) => e.category === 'transport')).toMatchObject({ remoteVersion: expect.stringMatching(/^SSH-2\.0-/) });
    const auth = client.filter((e) => e.category === 'auth').map((e) => e.message);
    expect(auth).toEqual([
      expect.stringMatching(/^Server host key accepted: ssh-ed25519 SHA256:/),
      'Authentication request: none for user',
      'Authentication failed for none; can continue: publickey,keyboard-interactive,password',
      'Authentication request: password for user',
      'Authentication failed for password; can continue: publickey,keyboard-interactive,password',
      expect.stringMatching(/^No authentication method left to try \(tried none,password; server allows/),
      'Authentication request: password for user',
      'Authentication succeeded (password)',
    ]);
    // The server sees the same steps from its side.
    expect(server.filter((e) => e.category === 'auth').map((e) => `${e.direction} ${e.method}`)).toEqual([
      'in none',
      'out none',
      'in password',
      'out password',
      'in password',
      'out password',
    ]);
    expect(client.at(-1)).toMatchObject({ category: 'transport', reasonCode: 11, reason: 'byApplication', initiatedBy: 'local' });
    expect(server.at(-1)).toMatchObject({ category: 'transport', reasonCode: 11, initiatedBy: 'remote' });
  });

  it('debug: adds channel opens, failures with reason codes, requests, EOF and CLOSE; no messages', async () => {
    const { client } = await runSession('debug');
    expect(categories(client).has('message')).toBe(false);
    const channel = client.filter((e) => e.category === 'channel');
    expect(channel.find((e) => e.channelType === 'x-unknown')).toMatchObject({ direction: 'out', localChannel: 0, initialWindowSize: 2097152, maximumPacketSize: 131072 });
    expect(channel.find((e) => e.reasonCode !== undefined)).toMatchObject({ direction: 'in', localChannel: 0, reasonCode: 1, reason: 'administrativelyProhibited', description: 'Only sessions here' });
    expect(channel.find((e) => /open confirmation received/.test(e.message))).toMatchObject({ localChannel: 1, remoteChannel: 1, initialWindowSize: 2097152 });
    expect(client.find((e) => e.requestType === 'exit-status')).toMatchObject({ category: 'request', direction: 'in', exitStatus: 0 });
    expect(channel.filter((e) => /CLOSE/.test(e.message)).map((e) => e.direction)).toEqual(['in', 'out']);
    expect(client.some((e) => e.category === 'kex' && e.message === 'Peer KEXINIT' && (e.kexAlgorithms as string[]).length > 0)).toBe(true);
    expect(client.some((e) => /^EXT_INFO received: server-sig-algs/.test(e.message))).toBe(true);
  });

  it('verbose: adds every message in and out with name, number and payload length', async () => {
    const { client, server } = await runSession('verbose');
    const messages = client.filter((e) => e.category === 'message');
    expect(messages.every((e) => e.level === 'verbose')).toBe(true);
    const names = (direction: string): unknown[] => messages.filter((e) => e.direction === direction).map((e) => e.messageName);
    expect(names('out').slice(0, 3)).toEqual(['KexInit', 'KexInitMessage', 'NewKeys']);
    expect(names('in')).toEqual(expect.arrayContaining(['KexInit', 'KexReplyMessage', 'NewKeys', 'ExtInfo', 'UserauthFailure', 'UserauthSuccess']));
    expect(messages.find((e) => e.messageName === 'ChannelData')).toMatchObject({ direction: 'out', messageType: 94, length: 9 + 5 });
    // Both sides see the same sequence of numbers, mirrored.
    const numbers = (events: TraceEvent[], direction: string): unknown[] =>
      events.filter((e) => e.category === 'message' && e.direction === direction).map((e) => e.messageType);
    expect(numbers(server, 'in')).toEqual(numbers(client, 'out'));
  });

  it('rejects a setting that is not a level', () => {
    expect(() => new ClientSession(configAt('loud' as TraceSetting))).toThrow(SshError);
    expect(() => new ClientSession(configAt('loud' as TraceSetting))).toThrow(/Unknown trace level loud; use off, info, debug, verbose/);
  });

  it('keeps the session running when the handler throws', async () => {
    const hostKey = await testHostKey();
    const [a, b] = duplexPair();
    const client = new ClientSession(configAt('verbose'));
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [hostKey] });
    let calls = 0;
    client.onTrace = () => {
      calls++;
      throw new Error('handler bug');
    };
    client.onAuthenticating = () => true;
    server.onAuthenticating = () => true;
    await Promise.all([client.connect(a), server.connect(b)]);
    expect(await client.authenticate({ username: 'user', password: 'x' })).toBe(true);
    expect(calls).toBeGreaterThan(10);
    await client.close();
  });
});

describe('Reconnection in the trace', () => {
  it('reports the lost connection, each attempt, and the resume with the replayed message count', async () => {
    const hostKey = await testHostKey();
    const reconnectable = new Set<ServerSession>();
    const serverEvents: TraceEvent[] = [];
    const serve = (link: ByteDuplex): ServerSession => {
      const server = new ServerSession(configAt('info', SessionConfig.defaultWithReconnect()), { hostKeys: [hostKey], reconnectableSessions: reconnectable });
      server.onTrace = (e) => serverEvents.push(e);
      server.onAuthenticating = (e) => e.password === 'secret';
      void server.connect(link).catch(() => {});
      return server;
    };
    const [near, far] = duplexPair();
    const first = faultyDuplex(near);
    const server = serve(far);
    const client = new ClientSession(configAt('info', SessionConfig.defaultWithReconnect()));
    const events: TraceEvent[] = [];
    client.onTrace = (e) => events.push(e);
    client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
    await client.connect(first);
    expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
    const channel = await client.openChannel();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const lost = new Promise<void>((resolve) => (client.onDisconnected = () => resolve()));
    first.trip();
    await lost;
    // Written while disconnected: cached, then replayed on the new connection.
    const writer = channel.writable.getWriter();
    void writer.write(encoder.encode('while away'));

    const [refusedNear, refusedFar] = duplexPair();
    const stranger = new ServerSession(SessionConfig.defaultWithReconnect(), { hostKeys: [await generateKeyPair('ssh-ed25519')] });
    void stranger.connect(refusedFar).catch(() => {});
    await expect(client.reconnect(refusedNear)).rejects.toThrow();

    const [secondNear, secondFar] = duplexPair();
    serve(secondFar);
    await client.reconnect(secondNear);
    const reconnect = events.filter((e) => e.category === 'reconnect').map((e) => e.message);
    expect(reconnect).toEqual([
      expect.stringMatching(/^Connection lost; the session waits for a reconnect/),
      'Reconnect attempt 1',
      expect.stringMatching(/^Reconnect attempt 1 failed: /),
      'Reconnect attempt 2',
      expect.stringMatching(/^Session resumed on a new connection; [1-9]\d* message\(s\) replayed to the peer$/),
    ]);
    expect(events.find((e) => /^Session resumed/.test(e.message))!.replayedMessages).toBeGreaterThanOrEqual(1);
    const serverReconnect = serverEvents.filter((e) => e.category === 'reconnect').map((e) => e.message);
    expect(serverReconnect).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Client reconnected; it lacks our messages from sequence \d+$/), expect.stringMatching(/^Session resumed/)]),
    );
    expect(server.metrics.reconnections).toBe(1);
    await client.close();
  });
});

describe('Tracer message describer', () => {
  it('never throws on arbitrary payloads, at every level and in both directions', () => {
    const interesting = [1, 2, 4, 5, 6, 7, 20, 21, 30, 31, 50, 51, 52, 53, 60, 61, 80, 81, 82, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 200];
    fc.assert(
      fc.property(fc.constantFrom(...interesting), fc.uint8Array({ maxLength: 64 }), fc.constantFrom('info', 'debug', 'verbose' as const), (type, body, level) => {
        const seen: TraceEvent[] = [];
        const tracer = new Tracer(level, (e) => seen.push(e));
        const payload = new Uint8Array([type, ...body]);
        tracer.inbound(payload);
        tracer.outbound(payload);
        for (const e of seen) expect(typeof e.message).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});
