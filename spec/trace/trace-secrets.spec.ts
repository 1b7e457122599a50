/**
 * Tracing at its most verbose level never reveals a secret: real sessions over in-memory pipes
 * authenticate by public key, password and keyboard-interactive (chained by partial success) and
 * through an agent, re-key from both sides and carry channel data, and every event of both
 * sides is searched for the password, the answers, the private keys in every encoding, H, the
 * session id, the integrity keys, the data marker and any long hex or base64 run.
 */
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { exportPrivateKey, KeyFormat } from '../../lib/keys/index.js';
import { InfoRequest, PartialSuccess, type ServerAuthenticatingHandler } from '../../lib/auth/types.js';
import { AgentClient } from '../../lib/agent/agent-client.js';
import { AgentServer } from '../../lib/agent/agent-server.js';
import type { TraceEvent } from '../../lib/trace/trace-event.js';
import type { KexOutcome } from '../../lib/transport/handshake.js';
import { duplexPair } from '../helpers/pipes.js';
import { armouredLines, findLeaks, jwkPrivateParts, type Secret } from './secret-scan.js';

const PASSWORD = 'pw-Secret-7391-horse';
const ANSWERS = ['kbd-Answer-5521-staple', 'kbd-Answer-8832-battery'];
const MARKER = 'MARKER-channel-data-4f1c9e';
const ENV_VALUE = 'env-Secret-Value-2207';
const encoder = new TextEncoder();

function verboseConfig(): SessionConfig {
  const config = SessionConfig.default();
  config.trace = 'verbose';
  return config;
}

interface Traced {
  client: ClientSession;
  server: ServerSession;
  events: TraceEvent[];
  outcomes: KexOutcome[];
}

async function tracedPair(hostKey: KeyPair, onAuthenticating: ServerAuthenticatingHandler): Promise<Traced> {
  const [a, b] = duplexPair();
  const client = new ClientSession(verboseConfig());
  const server = new ServerSession(verboseConfig(), { hostKeys: [hostKey] });
  const events: TraceEvent[] = [];
  const outcomes: KexOutcome[] = [];
  client.onTrace = (e) => events.push(e);
  server.onTrace = (e) => events.push(e);
  client.onKeyExchange = (o) => outcomes.push(o);
  server.onKeyExchange = (o) => outcomes.push(o);
  client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
  server.onAuthenticating = onAuthenticating;
  await Promise.all([client.connect(a), server.connect(b)]);
  return { client, server, events, outcomes };
}

async function keySecrets(name: string, key: KeyPair): Promise<Secret[]> {
  return [
    ...jwkPrivateParts(await exportPrivateKey(key, KeyFormat.Jwk)).map((s) => ({ ...s, name: `${name} ${s.name}` })),
    ...armouredLines(await exportPrivateKey(key, KeyFormat.OpenSsh)),
    ...armouredLines(await exportPrivateKey(key, KeyFormat.Pkcs8)),
  ];
}

/** H of every exchange, the session id and the integrity keys of both sides' current connection. */
function sessionSecrets(t: Traced): Secret[] {
  const secrets: Secret[] = t.outcomes.map((o, i) => ({ name: `exchange hash ${i}`, value: o.exchangeHash }));
  secrets.push({ name: 'session id', value: t.client.sessionId! });
  for (const [side, session] of [['client', t.client], ['server', t.server]] as const) {
    const keys = (session as unknown as { transport: { integrityKeys?: { clientToServer: Uint8Array; serverToClient: Uint8Array } } }).transport
      .integrityKeys!;
    secrets.push({ name: `${side} integrity key c2s`, value: keys.clientToServer }, { name: `${side} integrity key s2c`, value: keys.serverToClient });
  }
  return secrets;
}

describe('Tracing at the verbose level', () => {
  it('shows every authentication step, re-key and channel event of a session without any secret', async () => {
    const [hostKey, userKey] = await Promise.all([generateKeyPair('ssh-ed25519'), generateKeyPair('ecdsa-sha2-nistp256')]);
    // publickey, then password, then keyboard-interactive: each earns a partial success.
    const t = await tracedPair(hostKey, (e) => {
      if (e.username !== 'alice') return false;
      if (e.authenticationType === 'publickey') return e.isQuery ? e.publicKey?.equals(userKey) : new PartialSuccess(['password']);
      if (e.authenticationType === 'password') return e.password === PASSWORD ? new PartialSuccess(['keyboard-interactive']) : false;
      if (e.authenticationType === 'keyboard-interactive') {
        if (e.responses === undefined) return new InfoRequest([{ prompt: 'Code: ', echo: false }, { prompt: 'PIN: ', echo: false }]);
        return e.responses.join() === ANSWERS.join();
      }
      return false;
    });
    const { client, server, events } = t;
    const ok = await client.authenticate({ username: 'alice', privateKeys: [userKey], password: PASSWORD, keyboardInteractive: () => ANSWERS });
    expect(ok).toBe(true);

    const accepted = server.acceptChannel();
    const channel = await client.openChannel();
    const served = await accepted;
    served.onRequest = () => true;
    expect(await channel.setEnv('SSH_STREAMS_TOKEN', ENV_VALUE)).toBe(true);
    const writer = channel.writable.getWriter();
    await writer.write(encoder.encode(`${MARKER} from the client`));
    const reader = served.readable.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(MARKER);
    const back = served.writable.getWriter();
    await back.write(encoder.encode(`${MARKER} from the server`));
    await channel.readable.getReader().read();
    await client.rekey();
    await server.rekey();
    await served.close({ exitStatus: 3 });
    await channel.closed;
    const secrets = [...sessionSecrets(t), ...(await keySecrets('user key', userKey)), ...(await keySecrets('host key', hostKey))];
    await client.close();
    await server.closed.catch(() => {});

    secrets.push({ name: 'password', value: PASSWORD }, { name: 'answer 1', value: ANSWERS[0]! }, { name: 'answer 2', value: ANSWERS[1]! });
    secrets.push({ name: 'channel data marker', value: MARKER }, { name: 'env value', value: ENV_VALUE });
    expect(findLeaks(events, secrets)).toEqual([]);

    // The trace is not empty: each step the secrets could have leaked through is in it.
    const messages = events.map((e) => e.message);
    const auth = events.filter((e) => e.category === 'auth');
    expect(auth.some((e) => String(e.method).startsWith('publickey') && e.signed === true && e.direction === 'out')).toBe(true);
    expect(auth.some((e) => e.partialSuccess === true && (e.methodsThatCanContinue as string[]).includes('password'))).toBe(true);
    expect(auth.some((e) => e.method === 'password' && e.direction === 'in')).toBe(true);
    expect(auth.filter((e) => e.prompts === 2)).toHaveLength(2);
    expect(auth.filter((e) => e.responses === 2)).toHaveLength(2);
    expect(auth.some((e) => e.message === 'Authentication succeeded (keyboard-interactive)')).toBe(true);
    expect(events.filter((e) => e.category === 'kex' && e.rekey === true && e.initiatedBy === 'local' && /started/.test(e.message))).toHaveLength(2);
    expect(events.filter((e) => e.category === 'kex' && e.rekey === true && e.initiatedBy === 'remote')).toHaveLength(2);
    expect(events.some((e) => e.messageName === 'ChannelData' && e.direction === 'in' && e.length === 9 + MARKER.length + 16)).toBe(true);
    expect(events.some((e) => e.requestType === 'env')).toBe(true);
    expect(events.some((e) => e.exitStatus === 3)).toBe(true);
    expect(messages.some((m) => /^Disconnected by us: byApplication/.test(m))).toBe(true);
    expect(messages.some((m) => /^Disconnected by the peer: byApplication/.test(m))).toBe(true);
  });

  it('shows agent authentication by fingerprint and no signature or key bytes', async () => {
    const [hostKey, agentKey] = await Promise.all([generateKeyPair('ssh-ed25519'), generateKeyPair('rsa-sha2-512', { keySize: 2048 })]);
    const agentServer = new AgentServer([agentKey]);
    const [a, b] = duplexPair();
    void agentServer.serve(b);
    const agent = new AgentClient(a);
    const t = await tracedPair(hostKey, (e) => e.authenticationType === 'publickey' && e.publicKey?.equals(agentKey));
    expect(await t.client.authenticate({ username: 'bob', agent })).toBe(true);
    const secrets = [...sessionSecrets(t), ...(await keySecrets('agent key', agentKey))];
    await t.client.close();
    await agent.close();

    expect(findLeaks(t.events, secrets)).toEqual([]);
    const signed = t.events.filter((e) => e.category === 'auth' && e.signed === true);
    expect(signed.map((e) => e.algorithm)).toEqual(['rsa-sha2-512', 'rsa-sha2-512']);
    expect(signed[0]!.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('findLeaks', () => {
  it('finds a secret in each encoding, a stray blob and a bytes field', () => {
    const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
    const event = (message: string, extra: Record<string, unknown> = {}): TraceEvent => ({ level: 'info', category: 'auth', message, ...extra }) as TraceEvent;
    const secrets: Secret[] = [{ name: 'key', value: key }, { name: 'password', value: PASSWORD }];
    expect(findLeaks([event(`x ${PASSWORD} y`)], secrets)).toEqual([expect.stringMatching(/^password in/)]);
    expect(findLeaks([event(Buffer.from(key).toString('hex'))], secrets)[0]).toMatch(/^key in/);
    expect(findLeaks([event(Buffer.from(key).toString('base64'))], secrets)[0]).toMatch(/^key in/);
    expect(findLeaks([event(Buffer.from(key).toString('base64url'))], secrets)[0]).toMatch(/^key in/);
    expect(findLeaks([event(`blob ${'ab'.repeat(20)}`)], [])).toContainEqual(expect.stringMatching(/^long hex run/));
    expect(findLeaks([event(`blob ${'Zm9v'.repeat(12)}`)], [])).toEqual([expect.stringMatching(/^long base64 run/)]);
    expect(findLeaks([event('ok', { bytes: key })], [])).toEqual([expect.stringMatching(/^field bytes of "ok" is not a plain value/)]);
    expect(findLeaks([event(`key SHA256:${'A'.repeat(43)}`)], [])).toEqual([]);
  });
});
