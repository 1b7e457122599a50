import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { AuthenticationError, DisconnectReason, ProtocolError } from '../../lib/errors.js';
import { decode, encode } from '../../lib/codec/schema.js';
import { UserauthRequest } from '../../lib/codec/messages/userauth.js';
import { decodePublicKeyFields, publicKeyHostboundMethod, UserauthPkOk } from '../../lib/auth/publickey.js';
import { InfoRequest, PartialSuccess, type ServerAuthenticatingEvent } from '../../lib/auth/types.js';
import { KeyPair } from '../../lib/keys/key-pair.js';
import { authPair } from './auth-pair.js';
import { keyTypes, testKeys, type TestKeyType } from './test-keys.js';

let keys: Record<TestKeyType, KeyPair>;
beforeAll(async () => {
  keys = await testKeys();
});

/** The USERAUTH_REQUESTs a client sent, decoded. */
function requests(sent: Uint8Array[]) {
  return sent.filter((p) => p[0] === 50).map((p) => decode(UserauthRequest, p));
}

/** Public key requests that carried a signature, with their algorithm. */
function signedKeyRequests(sent: Uint8Array[]) {
  return requests(sent)
    .filter((r) => r.methodName.startsWith('publickey'))
    .map((r) => ({ methodName: r.methodName, ...decodePublicKeyFields(r.methodName, r.methodFields) }))
    .filter((r) => r.signature !== undefined);
}

describe('ClientAuthentication against ServerAuthentication', () => {
  it('authenticates with a password the handler accepts and exposes the principal', async () => {
    const principal = { id: 42 };
    const pair = authPair({ onAuthenticating: (e) => e.authenticationType === 'password' && e.password === 'secret' && principal });
    expect(await pair.client.authenticate({ username: 'admin', password: 'secret' })).toBe(true);
    await expect(pair.server.authenticated).resolves.toEqual({ username: 'admin', method: 'password', principal });
    expect(pair.server.isAuthenticated).toBe(true);
    expect(pair.client.result).toEqual({ username: 'admin', method: 'password' });
    expect(pair.client.methodsTried).toEqual(['none', 'password']);
    expect(pair.unhandled).toEqual([]);
  });

  it('resolves false for a wrong password and does not disconnect', async () => {
    const pair = authPair({ onAuthenticating: (e) => e.password === 'secret' });
    expect(await pair.client.authenticate({ username: 'admin', password: 'wrong' })).toBe(false);
    expect(pair.server.isAuthenticated).toBe(false);
    expect(pair.clientTransport.disconnects).toEqual([]);
    expect(pair.serverTransport.disconnects).toEqual([]);
  });

  it('sends SERVICE_REQUEST once across several authenticate calls', async () => {
    const pair = authPair({ onAuthenticating: (e) => e.password === 'right' });
    expect(await pair.client.authenticate({ username: 'u', password: 'wrong' })).toBe(false);
    expect(await pair.client.authenticate({ username: 'u', password: 'right' })).toBe(true);
    expect(pair.clientTransport.sent.filter((p) => p[0] === 5)).toHaveLength(1);
    expect(await pair.client.authenticate({ username: 'u', password: 'ignored' })).toBe(true);
  });

  it('succeeds with none when the handler accepts it', async () => {
    const pair = authPair({ onAuthenticating: (e) => e.authenticationType === 'none' });
    expect(await pair.client.authenticate({ username: 'guest' })).toBe(true);
    expect(pair.client.result?.method).toBe('none');
  });

  it('rejects everything when the server has no handler', async () => {
    const key = keys['ssh-ed25519'];
    const pair = authPair();
    expect(await pair.client.authenticate({ username: 'u', password: 'p', privateKeys: [key] })).toBe(false);
    expect(pair.client.methodsTried).toEqual(['none', 'publickey', 'password']);
  });

  it.each([
    ['ssh-ed25519', 'ssh-ed25519'],
    ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256'],
    ['ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp384'],
    ['ecdsa-sha2-nistp521', 'ecdsa-sha2-nistp521'],
    ['ssh-rsa', 'rsa-sha2-512'],
  ] as const)('authenticates with a %s user key signing %s after a query', async (keyType, algorithm) => {
    const key = keys[keyType];
    const events: ServerAuthenticatingEvent[] = [];
    const pair = authPair({
      onAuthenticating: (e) => {
        events.push(e);
        return e.authenticationType === 'publickey' && e.publicKey!.equals(key) && { key: e.publicKey!.keyType };
      },
    });
    expect(await pair.client.authenticate({ username: 'alice', privateKeys: [key] })).toBe(true);
    const keyEvents = events.filter((e) => e.authenticationType === 'publickey');
    expect(keyEvents.map((e) => e.isQuery)).toEqual([true, false]);
    expect(keyEvents[1]!.publicKeyAlgorithm).toBe(algorithm);
    expect(signedKeyRequests(pair.clientTransport.sent).map((r) => r.algorithm)).toEqual([algorithm]);
    await expect(pair.server.authenticated).resolves.toMatchObject({ method: 'publickey', principal: { key: keyType } });
  });

  it('signs with rsa-sha2-256 when server-sig-algs offers only that', async () => {
    const key = keys['ssh-rsa'];
    const serverConfig = SessionConfig.default();
    serverConfig.publicKeyAlgorithms = ['ssh-ed25519', 'rsa-sha2-256'];
    const pair = authPair({ serverConfig, onAuthenticating: (e) => e.publicKey?.equals(key) });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [key] })).toBe(true);
    expect(signedKeyRequests(pair.clientTransport.sent).map((r) => r.algorithm)).toEqual(['rsa-sha2-256']);
  });

  it('falls back from rsa-sha2-512 to rsa-sha2-256 without server-sig-algs', async () => {
    const key = keys['ssh-rsa'];
    const serverConfig = SessionConfig.default();
    serverConfig.publicKeyAlgorithms = ['rsa-sha2-256'];
    const pair = authPair({ serverConfig, serverSigAlgs: null, onAuthenticating: (e) => e.publicKey?.equals(key) });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [key] })).toBe(true);
    const queried = requests(pair.clientTransport.sent)
      .filter((r) => r.methodName === 'publickey')
      .map((r) => decodePublicKeyFields(r.methodName, r.methodFields).algorithm);
    expect(queried).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'rsa-sha2-256']);
  });

  it('never offers ssh-rsa (SHA-1) unless the client config lists it', async () => {
    const key = keys['ssh-rsa'];
    const serverConfig = SessionConfig.default();
    serverConfig.publicKeyAlgorithms = ['ssh-rsa'];
    const pair = authPair({ serverConfig, onAuthenticating: (e) => e.authenticationType === 'publickey' });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [key] })).toBe(false);
    expect(requests(pair.clientTransport.sent).map((r) => r.methodName)).toEqual(['none']);

    const clientConfig = SessionConfig.default();
    clientConfig.publicKeyAlgorithms.push('ssh-rsa');
    const legacy = authPair({ clientConfig, serverConfig, onAuthenticating: (e) => e.publicKey?.equals(key) });
    expect(await legacy.client.authenticate({ username: 'u', privateKeys: [key] })).toBe(true);
    expect(signedKeyRequests(legacy.clientTransport.sent).map((r) => r.algorithm)).toEqual(['ssh-rsa']);
  });

  it('moves on from an unknown key to the next one', async () => {
    const known = keys['ecdsa-sha2-nistp256'];
    const pair = authPair({ onAuthenticating: (e) => e.publicKey?.equals(known) });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [keys['ssh-ed25519'], known] })).toBe(true);
    expect(signedKeyRequests(pair.clientTransport.sent)).toHaveLength(1);
  });

  it('resolves false for an unknown key without ever signing', async () => {
    const pair = authPair({ onAuthenticating: () => false });
    const key = keys['ssh-ed25519'];
    const sign = vi.spyOn(key, 'sign');
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [key] })).toBe(false);
    expect(sign).not.toHaveBeenCalled();
    sign.mockRestore();
  });

  it('calls a key provider only when the server offers publickey, and only once', async () => {
    const key = keys['ssh-ed25519'];
    const provider = vi.fn(async () => key);
    const passwordOnly = SessionConfig.default();
    passwordOnly.authenticationMethods = ['password'];
    const pair = authPair({ serverConfig: passwordOnly, onAuthenticating: (e) => e.password === 'p' });
    expect(await pair.client.authenticate({ username: 'u', password: 'p', privateKeys: [provider] })).toBe(true);
    expect(provider).not.toHaveBeenCalled();

    const second = vi.fn(async () => keys['ecdsa-sha2-nistp384']);
    const keyPair = authPair({ onAuthenticating: (e) => e.publicKey?.equals(key) });
    expect(await keyPair.client.authenticate({ username: 'u', privateKeys: [provider, second] })).toBe(true);
    expect(provider).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
  });

  it.each(keyTypes)('uses publickey-hostbound-v00 with a %s host key when the server announces it', async (hostKeyType) => {
    const hostKey = keys[hostKeyType];
    const user = keys['ssh-ed25519'];
    const events: ServerAuthenticatingEvent[] = [];
    const pair = authPair({
      hostKey,
      hostbound: true,
      onAuthenticating: (e) => {
        events.push(e);
        return e.publicKey?.equals(user);
      },
    });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [user] })).toBe(true);
    const signed = signedKeyRequests(pair.clientTransport.sent);
    expect(signed.map((r) => r.methodName)).toEqual([publicKeyHostboundMethod]);
    expect(signed[0]!.hostKeyBlob).toEqual(hostKey.publicKeyBlob);
    expect(events.at(-1)).toMatchObject({ authenticationType: 'publickey', methodName: publicKeyHostboundMethod, isQuery: false });
  });

  it('answers keyboard-interactive prompts over several rounds', async () => {
    const seen: string[][] = [];
    const pair = authPair({
      onAuthenticating: (e) => {
        if (e.authenticationType !== 'keyboard-interactive') return false;
        if (!e.responses) return new InfoRequest([{ prompt: 'Password: ', echo: false }], { name: 'Login', instruction: 'Step 1' });
        seen.push([...e.responses]);
        if (e.prompts![0]!.prompt === 'Password: ') {
          return e.responses[0] === 'pw' ? new InfoRequest([{ prompt: 'Code: ', echo: true }, { prompt: 'Pet: ', echo: true }]) : false;
        }
        return e.responses[0] === '123456' && e.responses[1] === 'cat' && 'kbd-user';
      },
    });
    const responder = vi.fn(async (prompts: readonly { prompt: string }[], _name: string, _instruction: string) =>
      prompts.map((p) => ({ 'Password: ': 'pw', 'Code: ': '123456', 'Pet: ': 'cat' })[p.prompt]!),
    );
    expect(await pair.client.authenticate({ username: 'u', keyboardInteractive: responder })).toBe(true);
    expect(responder.mock.calls.map((c) => [c[0].length, c[1], c[2]])).toEqual([
      [1, 'Login', 'Step 1'],
      [2, '', ''],
    ]);
    expect(seen).toEqual([['pw'], ['123456', 'cat']]);
    await expect(pair.server.authenticated).resolves.toMatchObject({ method: 'keyboard-interactive', principal: 'kbd-user' });
  });

  it('answers a keyboard-interactive password prompt with the password when password is not offered', async () => {
    const serverConfig = SessionConfig.default();
    serverConfig.authenticationMethods = ['keyboard-interactive'];
    const pair = authPair({
      serverConfig,
      onAuthenticating: (e) => (e.responses ? e.responses[0] === 'pw' : new InfoRequest([{ prompt: 'Password: ', echo: false }])),
    });
    expect(await pair.client.authenticate({ username: 'u', password: 'pw' })).toBe(true);
  });

  it('completes a partial success that requires a key and then a password', async () => {
    const key = keys['ssh-ed25519'];
    const pair = authPair({
      onAuthenticating: (e) => {
        if (e.authenticationType === 'publickey') return e.publicKey!.equals(key) && (e.isQuery || new PartialSuccess(['password']));
        if (e.authenticationType === 'password') return e.previousMethods.includes('publickey') && e.password === 'pw' && 'both';
        return false;
      },
    });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [key], password: 'pw' })).toBe(true);
    expect(pair.client.methodsTried).toEqual(['none', 'publickey', 'password']);
    await expect(pair.server.authenticated).resolves.toEqual({ username: 'u', method: 'password', principal: 'both' });
  });

  it('fails when the second factor of a partial success is missing', async () => {
    const key = keys['ssh-ed25519'];
    const pair = authPair({
      onAuthenticating: (e) => e.authenticationType === 'publickey' && (e.isQuery || new PartialSuccess(['password'])),
    });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [key] })).toBe(false);
    expect(pair.client.methodsThatCanContinue).toEqual(['password']);
  });

  it('surfaces the server banner before the result', async () => {
    const order: string[] = [];
    const pair = authPair({ banner: 'Authorised use only\r\n', onAuthenticating: (e) => e.password === 'p' });
    pair.client.onBanner = (message, languageTag) => order.push(`banner:${message}:${languageTag}`);
    const ok = await pair.client.authenticate({ username: 'u', password: 'p' });
    order.push(`result:${ok}`);
    expect(order).toEqual(['banner:Authorised use only\r\n:', 'result:true']);
    expect(pair.serverTransport.sent.filter((p) => p[0] === 53)).toHaveLength(1);
  });

  it('changes an expired password when the server asks and the app supplies a new one', async () => {
    const pair = authPair({ onAuthenticating: (e) => e.password === 'old' && e.newPassword === 'new' });
    // Our server never sends PASSWD_CHANGEREQ itself; inject one as the answer to the first password request.
    let injected = false;
    pair.clientTransport.deliver = (p) => {
      const r = p[0] === 50 ? decode(UserauthRequest, p) : undefined;
      if (r?.methodName === 'password' && !injected) {
        injected = true;
        const changeRequest = new Uint8Array([60, 0, 0, 0, 7, ...new TextEncoder().encode('Expired'), 0, 0, 0, 0]);
        queueMicrotask(() => pair.client.handleMessage(changeRequest));
        return;
      }
      pair.server.handleMessage(p);
    };
    const changePassword = vi.fn(async () => 'new');
    expect(await pair.client.authenticate({ username: 'u', password: 'old', changePassword })).toBe(true);
    expect(changePassword).toHaveBeenCalledWith('Expired');
  });

  it('rejects with AuthenticationError naming the methods tried when the server disconnects', async () => {
    const serverConfig = SessionConfig.default();
    serverConfig.maxClientAuthenticationAttempts = 2;
    const pair = authPair({ serverConfig, onAuthenticating: () => false });
    const keyList = [keys['ssh-ed25519'], keys['ecdsa-sha2-nistp256'], keys['ecdsa-sha2-nistp384']];
    const error = await pair.client.authenticate({ username: 'u', privateKeys: keyList }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).methods).toEqual(['none', 'publickey']);
    expect(pair.serverTransport.disconnects).toEqual([
      { reason: DisconnectReason.noMoreAuthMethodsAvailable, description: 'Too many authentication failures (2 of 2)' },
    ]);
  });

  it('rejects a second concurrent authenticate call', async () => {
    const pair = authPair({ onAuthenticating: (e) => e.password === 'p' });
    const first = pair.client.authenticate({ username: 'u', password: 'p' });
    await expect(pair.client.authenticate({ username: 'u', password: 'p' })).rejects.toThrow(/already in progress/);
    expect(await first).toBe(true);
  });

  it('never puts the password in an error message', async () => {
    const pair = authPair({ onAuthenticating: () => new Promise(() => undefined) });
    const pending = pair.client.authenticate({ username: 'u', password: 'hunter2' }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 5));
    pair.clientTransport.disconnect(DisconnectReason.byApplication, 'Bye');
    const error = (await pending) as AuthenticationError;
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(JSON.stringify({ m: error.message, c: String(error.cause) })).not.toContain('hunter2');
  });

  it('disconnects a server whose PK_OK names a key it was not asked about', async () => {
    const pair = authPair({ onAuthenticating: (e) => e.authenticationType === 'publickey' });
    pair.serverTransport.deliver = (p) => {
      const forged = p[0] === 60 ? encode(UserauthPkOk, { publicKeyAlgorithmName: 'ssh-ed25519', publicKeyBlob: keys['ssh-rsa'].publicKeyBlob }) : p;
      pair.client.handleMessage(forged);
    };
    const error = await pair.client.authenticate({ username: 'u', privateKeys: [keys['ssh-ed25519']] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).cause).toBeInstanceOf(ProtocolError);
    expect(pair.clientTransport.disconnects).toEqual([
      { reason: DisconnectReason.protocolError, description: 'Server accepted key ssh-ed25519 that was not asked about' },
    ]);
  });

  it('signs after a PK_OK that names an rsa-sha2-512 query by its key type ssh-rsa, as the ssh2 package does', async () => {
    const pair = authPair({ onAuthenticating: (e) => e.authenticationType === 'publickey' });
    pair.serverTransport.deliver = (p) => {
      const renamed = p[0] === 60 ? encode(UserauthPkOk, { ...decode(UserauthPkOk, p), publicKeyAlgorithmName: 'ssh-rsa' }) : p;
      pair.client.handleMessage(renamed);
    };
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [keys['ssh-rsa']] })).toBe(true);
    expect(pair.clientTransport.disconnects).toEqual([]);
  });

  it('rejects when the keyboard-interactive responder answers the wrong number of prompts', async () => {
    const pair = authPair({ onAuthenticating: (e) => (e.responses ? true : new InfoRequest([{ prompt: 'A', echo: true }])) });
    const error = await pair.client.authenticate({ username: 'u', keyboardInteractive: () => [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toBe('Keyboard-interactive responder gave 0 answers to 1 prompts');
  });

  it('skips keys without their private half', async () => {
    const publicOnly = KeyPair.fromPublicKeyBlob(keys['ssh-ed25519'].publicKeyBlob);
    const pair = authPair({ onAuthenticating: (e) => e.publicKey !== undefined });
    expect(await pair.client.authenticate({ username: 'u', privateKeys: [publicOnly] })).toBe(false);
    expect(pair.client.methodsTried).toEqual(['none']);
  });
});
