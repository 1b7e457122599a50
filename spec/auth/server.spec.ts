import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { AuthenticationError, DisconnectReason } from '../../lib/errors.js';
import { decode, encode } from '../../lib/codec/schema.js';
import { ServiceAccept, ServiceRequest } from '../../lib/codec/messages/transport.js';
import { UserauthFailure, UserauthRequest } from '../../lib/codec/messages/userauth.js';
import { ServerAuthentication, type ServerAuthenticationOptions } from '../../lib/auth/server.js';
import {
  encodePublicKeyFields,
  publicKeyHostboundMethod,
  publicKeySignatureData,
  UserauthPkOk,
} from '../../lib/auth/publickey.js';
import { encodePasswordFields } from '../../lib/auth/password.js';
import { encodeKeyboardInteractiveFields, encodeUserauthInfoResponse } from '../../lib/auth/keyboard-interactive.js';
import { InfoRequest, PartialSuccess, type AuthTimers, type ServerAuthenticatingEvent } from '../../lib/auth/types.js';
import { generateKeyPair, type KeyPair, type PublicKeyAlgorithmName } from '../../lib/keys/key-pair.js';
import { fakeTransport, settle } from './auth-pair.js';
import { testKeys, type TestKeyType } from './test-keys.js';

let keys: Record<TestKeyType, KeyPair>;
let otherEd25519: KeyPair;
beforeAll(async () => {
  keys = await testKeys();
  otherEd25519 = await generateKeyPair('ssh-ed25519');
});
afterEach(() => {
  vi.useRealTimers();
});

const sessionId = new Uint8Array(32).fill(9);

/** A server fed hand-made messages; `events` records what its handler saw. */
function rawServer(options: ServerAuthenticationOptions & { config?: SessionConfig; hostKey?: KeyPair } = {}) {
  const transport = fakeTransport(options.config ?? SessionConfig.default(), sessionId);
  transport.hostKeyBlob = options.hostKey?.publicKeyBlob;
  const server = new ServerAuthentication(transport, options);
  transport.onDisconnect = () => server.close();
  const sendRaw = (payload: Uint8Array) => server.handleMessage(payload);
  /** Sends one message and returns the payloads sent in reply once the server is idle. */
  const exchange = async (payload: Uint8Array) => {
    const before = transport.sent.length;
    sendRaw(payload);
    await settle();
    return transport.sent.slice(before);
  };
  sendRaw(encode(ServiceRequest, { serviceName: 'ssh-userauth' }));
  return { server, transport, exchange, sendRaw };
}

function request(methodName: string, methodFields: Uint8Array, userName = 'alice'): Uint8Array {
  return encode(UserauthRequest, { userName, serviceName: 'ssh-connection', methodName, methodFields });
}

const passwordRequest = (password: string, userName = 'alice') => request('password', encodePasswordFields({ password }), userName);
const noneRequest = () => request('none', new Uint8Array(0));

interface KeyRequestOptions {
  key: KeyPair;
  algorithm: string;
  signer?: KeyPair;
  signatureAlgorithm?: string;
  signedSessionId?: Uint8Array;
  methodName?: string;
  hostKeyBlob?: Uint8Array;
  query?: boolean;
}

/** A publickey request signed by hand, so that every field of the signed data can be wrong. */
async function keyRequest(o: KeyRequestOptions): Promise<Uint8Array> {
  const methodName = o.methodName ?? 'publickey';
  const publicKeyBlob = o.key.publicKeyBlob;
  let signature: Uint8Array | undefined;
  if (!o.query) {
    const data = publicKeySignatureData({
      sessionId: o.signedSessionId ?? sessionId,
      userName: 'alice',
      serviceName: 'ssh-connection',
      methodName,
      algorithm: o.algorithm,
      publicKeyBlob,
      hostKeyBlob: o.hostKeyBlob,
    });
    signature = await (o.signer ?? o.key).sign((o.signatureAlgorithm ?? o.algorithm) as PublicKeyAlgorithmName, data);
  }
  return request(methodName, encodePublicKeyFields(methodName, { algorithm: o.algorithm, publicKeyBlob, hostKeyBlob: o.hostKeyBlob, signature }));
}

function failure(payload: Uint8Array | undefined) {
  expect(payload?.[0]).toBe(51);
  return decode(UserauthFailure, payload!);
}

describe('ServerAuthentication', () => {
  it('accepts the ssh-userauth service request', () => {
    const { transport } = rawServer();
    expect(decode(ServiceAccept, transport.sent[0]!)).toEqual({ serviceName: 'ssh-userauth' });
  });

  it('disconnects a client asking for another service before authentication', () => {
    const transport = fakeTransport(SessionConfig.default(), sessionId);
    const server = new ServerAuthentication(transport);
    expect(server.handleMessage(encode(ServiceRequest, { serviceName: 'ssh-connection' }))).toBe(true);
    expect(transport.disconnects[0]?.reason).toBe(DisconnectReason.serviceNotAvailable);
  });

  it('disconnects a USERAUTH_REQUEST sent before the service request', () => {
    const transport = fakeTransport(SessionConfig.default(), sessionId);
    const server = new ServerAuthentication(transport, { onAuthenticating: () => true });
    server.handleMessage(passwordRequest('pw'));
    expect(transport.disconnects[0]?.reason).toBe(DisconnectReason.protocolError);
    expect(server.isAuthenticated).toBe(false);
  });

  it('lists the configured methods, never none, and refuses methods not offered without asking the handler', async () => {
    const config = SessionConfig.default();
    config.authenticationMethods = ['publickey', 'none'];
    const handler = vi.fn(() => true);
    const { exchange, server } = rawServer({ config, onAuthenticating: handler });
    const [reply] = await exchange(passwordRequest('pw'));
    expect(failure(reply)).toEqual({ authenticationsThatCanContinue: ['publickey'], partialSuccess: false });
    failure((await exchange(request('hostbased', new Uint8Array(3))))[0]);
    expect(handler).not.toHaveBeenCalled();
    expect(server.isAuthenticated).toBe(false);
  });

  it('verifies a publickey signature bound to the session id before asking the handler', async () => {
    const key = keys['ecdsa-sha2-nistp256'];
    const events: ServerAuthenticatingEvent[] = [];
    const { exchange, server } = rawServer({ onAuthenticating: (e) => (events.push(e), true) });
    const [reply] = await exchange(await keyRequest({ key, algorithm: 'ecdsa-sha2-nistp256' }));
    expect(reply).toEqual(new Uint8Array([52]));
    expect(events).toMatchObject([{ authenticationType: 'publickey', isQuery: false, username: 'alice', publicKeyAlgorithm: 'ecdsa-sha2-nistp256' }]);
    expect(events[0]!.publicKey!.equals(key)).toBe(true);
    expect(server.result).toMatchObject({ username: 'alice', method: 'publickey', principal: true });
  });

  const forgeries: [string, () => KeyRequestOptions][] = [
    ['a signature over another session id', () => ({ key: keys['ssh-ed25519'], algorithm: 'ssh-ed25519', signedSessionId: new Uint8Array(32).fill(8) })],
    ['a signature by another key of the same type', () => ({ key: keys['ssh-ed25519'], algorithm: 'ssh-ed25519', signer: otherEd25519 })],
    ['a signature algorithm differing from the request', () => ({ key: keys['ssh-rsa'], algorithm: 'rsa-sha2-512', signatureAlgorithm: 'rsa-sha2-256' })],
    ['an algorithm not matching the key type', () => ({ key: keys['ssh-ed25519'], algorithm: 'ecdsa-sha2-nistp384', signer: keys['ecdsa-sha2-nistp384'] })],
    ['an algorithm missing from publicKeyAlgorithms', () => ({ key: keys['ssh-rsa'], algorithm: 'ssh-rsa' })],
    [
      'a hostbound request naming another host key',
      () => ({ key: keys['ssh-ed25519'], algorithm: 'ssh-ed25519', methodName: publicKeyHostboundMethod, hostKeyBlob: keys['ssh-rsa'].publicKeyBlob }),
    ],
  ];

  it.each(forgeries)('refuses %s without asking the handler', async (_, build) => {
    const handler = vi.fn(() => true);
    const { exchange, server } = rawServer({ onAuthenticating: handler, hostKey: keys['ecdsa-sha2-nistp521'] });
    failure((await exchange(await keyRequest(build())))[0]);
    expect(handler).not.toHaveBeenCalled();
    expect(server.isAuthenticated).toBe(false);
  });

  it('accepts a hostbound signature that covers its own host key', async () => {
    const hostKey = keys['ecdsa-sha2-nistp521'];
    const { exchange } = rawServer({ hostKey, onAuthenticating: (e) => e.methodName === publicKeyHostboundMethod });
    const key = keys['ssh-ed25519'];
    const [reply] = await exchange(await keyRequest({ key, algorithm: 'ssh-ed25519', methodName: publicKeyHostboundMethod, hostKeyBlob: hostKey.publicKeyBlob }));
    expect(reply).toEqual(new Uint8Array([52]));
  });

  it('accepts ssh-rsa (SHA-1) signatures only when configured', async () => {
    const config = SessionConfig.default();
    config.publicKeyAlgorithms.push('ssh-rsa');
    const { exchange } = rawServer({ config, onAuthenticating: () => true });
    const [reply] = await exchange(await keyRequest({ key: keys['ssh-rsa'], algorithm: 'ssh-rsa' }));
    expect(reply).toEqual(new Uint8Array([52]));
  });

  it('answers a key query with PK_OK when the handler accepts it, and never authenticates on a query', async () => {
    const key = keys['ssh-rsa'];
    const events: ServerAuthenticatingEvent[] = [];
    const { exchange, server } = rawServer({ onAuthenticating: (e) => (events.push(e), true) });
    const [reply] = await exchange(await keyRequest({ key, algorithm: 'rsa-sha2-256', query: true }));
    expect(decode(UserauthPkOk, reply!)).toEqual({ publicKeyAlgorithmName: 'rsa-sha2-256', publicKeyBlob: key.publicKeyBlob });
    expect(events).toMatchObject([{ isQuery: true, authenticationType: 'publickey' }]);
    expect(server.isAuthenticated).toBe(false);
  });

  it('answers a query for an unacceptable key with FAILURE', async () => {
    const { exchange } = rawServer({ onAuthenticating: (e) => !e.isQuery });
    failure((await exchange(await keyRequest({ key: keys['ssh-ed25519'], algorithm: 'ssh-ed25519', query: true })))[0]);
  });

  it('disconnects with reason 14 once the attempts are used up, not counting the first none', async () => {
    const config = SessionConfig.default();
    config.maxClientAuthenticationAttempts = 3;
    const { exchange, transport, server } = rawServer({ config, onAuthenticating: () => false });
    failure((await exchange(noneRequest()))[0]);
    failure((await exchange(passwordRequest('a')))[0]);
    failure((await exchange(passwordRequest('b')))[0]);
    expect(await exchange(passwordRequest('c'))).toEqual([]);
    expect(transport.disconnects).toEqual([
      { reason: DisconnectReason.noMoreAuthMethodsAvailable, description: 'Too many authentication failures (3 of 3)' },
    ]);
    await expect(server.authenticated).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('treats a throwing handler as a rejection and keeps serving', async () => {
    const onHandlerError = vi.fn();
    const { exchange, server } = rawServer({
      onAuthenticating: (e) => {
        if (e.password === 'boom') throw new Error('Database down');
        return e.password === 'ok';
      },
    });
    server.onHandlerError = onHandlerError;
    failure((await exchange(passwordRequest('boom')))[0]);
    expect(onHandlerError).toHaveBeenCalledWith(new Error('Database down'));
    expect(await exchange(passwordRequest('ok'))).toEqual([new Uint8Array([52])]);
  });

  it('disconnects when a handler never answers, once the authentication timeout passes', async () => {
    vi.useFakeTimers();
    const config = SessionConfig.default();
    config.authenticationTimeout = 30_000;
    const { sendRaw, transport, server } = rawServer({ config, onAuthenticating: () => new Promise(() => undefined) });
    sendRaw(passwordRequest('pw'));
    await vi.advanceTimersByTimeAsync(29_999);
    expect(transport.disconnects).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.disconnects).toEqual([{ reason: DisconnectReason.byApplication, description: 'Authentication timed out after 30000 ms' }]);
    await expect(server.authenticated).rejects.toThrow(/closed before authentication/);
  });

  it('uses injected timers and cancels the timeout on success', async () => {
    const pending = new Map<number, () => void>();
    let next = 0;
    const timers: AuthTimers = {
      setTimeout: (callback) => (pending.set(++next, callback), next),
      clearTimeout: (handle) => void pending.delete(handle as number),
    };
    const { exchange, transport } = rawServer({ timers, onAuthenticating: () => true });
    expect(pending.size).toBe(1);
    await exchange(passwordRequest('pw'));
    expect(pending.size).toBe(0);
    expect(transport.disconnects).toEqual([]);
  });

  it('ignores requests after success', async () => {
    const handler = vi.fn(() => true);
    const { exchange } = rawServer({ onAuthenticating: handler });
    await exchange(passwordRequest('pw'));
    expect(await exchange(passwordRequest('pw', 'root'))).toEqual([]);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('leaves other services to the session once authenticated', async () => {
    const { exchange, server } = rawServer({ onAuthenticating: () => true });
    await exchange(passwordRequest('pw'));
    expect(server.handleMessage(encode(ServiceRequest, { serviceName: 'my-service' }))).toBe(false);
    expect(server.handleMessage(new Uint8Array([90]))).toBe(false);
  });

  it('answers pipelined requests in order', async () => {
    const { sendRaw, transport } = rawServer({ onAuthenticating: async (e) => e.password === 'second' });
    sendRaw(passwordRequest('first'));
    sendRaw(passwordRequest('second'));
    await settle();
    expect(transport.sent.slice(1).map((p) => p[0])).toEqual([51, 52]);
  });

  it('passes a password change request to the handler', async () => {
    const events: ServerAuthenticatingEvent[] = [];
    const { exchange } = rawServer({ onAuthenticating: (e) => (events.push(e), true) });
    await exchange(request('password', encodePasswordFields({ password: 'old', newPassword: 'new' })));
    expect(events[0]).toMatchObject({ password: 'old', newPassword: 'new' });
  });

  it('disconnects a malformed password request without quoting the password', async () => {
    const { exchange, transport } = rawServer({ onAuthenticating: () => true });
    const fields = encodePasswordFields({ password: 'hunter2' });
    await exchange(request('password', new Uint8Array([...fields, 0])));
    expect(transport.disconnects[0]?.reason).toBe(DisconnectReason.protocolError);
    expect(transport.disconnects[0]?.description).toMatch(/trailing bytes/);
    expect(transport.disconnects[0]?.description).not.toContain('hunter2');
  });

  it('disconnects an INFO_RESPONSE nobody asked for', async () => {
    const { exchange, transport } = rawServer({ onAuthenticating: () => true });
    await exchange(encodeUserauthInfoResponse(['x']));
    expect(transport.disconnects[0]).toEqual({ reason: DisconnectReason.protocolError, description: 'Unexpected authentication message 61' });
  });

  it('fails keyboard-interactive when the number of responses differs from the prompts', async () => {
    const handler = vi.fn((e: ServerAuthenticatingEvent) => (e.responses ? true : new InfoRequest([{ prompt: 'A', echo: true }])));
    const { exchange } = rawServer({ onAuthenticating: handler });
    const [info] = await exchange(request('keyboard-interactive', encodeKeyboardInteractiveFields({ languageTag: '', submethods: ['pam'] })));
    expect(info?.[0]).toBe(60);
    expect(handler.mock.calls[0]![0].submethods).toEqual(['pam']);
    failure((await exchange(encodeUserauthInfoResponse(['a', 'b'])))[0]);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('treats InfoRequest from a handler of another method as a rejection', async () => {
    const { exchange } = rawServer({ onAuthenticating: () => new InfoRequest([]) });
    failure((await exchange(passwordRequest('pw')))[0]);
  });

  it('limits partial success to the methods named and resets it when the user changes', async () => {
    const { exchange } = rawServer({
      onAuthenticating: (e) => (e.previousMethods.length === 0 ? new PartialSuccess(['keyboard-interactive', 'bogus']) : 'done'),
    });
    expect(failure((await exchange(passwordRequest('pw')))[0])).toEqual({ authenticationsThatCanContinue: ['keyboard-interactive'], partialSuccess: true });
    failure((await exchange(passwordRequest('pw')))[0]);
    const reset = failure((await exchange(passwordRequest('pw', 'bob')))[0]);
    expect(reset).toEqual({ authenticationsThatCanContinue: ['keyboard-interactive'], partialSuccess: true });
  });

  it('sends the banner once, before the first answer', async () => {
    const { exchange, transport } = rawServer({ banner: 'Welcome', onAuthenticating: () => false });
    const replies = await exchange(noneRequest());
    expect(replies.map((p) => p[0])).toEqual([53, 51]);
    expect((await exchange(noneRequest())).map((p) => p[0])).toEqual([51]);
    expect(transport.sent.filter((p) => p[0] === 53)).toHaveLength(1);
  });
});
