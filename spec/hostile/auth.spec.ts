/**
 * Keyboard-interactive and banners of absurd size, both ways. A server that asks 100 000 prompts,
 * sends a 15 MiB banner or prompt (30 MiB is past the 16 MiB any packet may hold) or floods
 * banners is disconnected by our client (PROTOCOL_ERROR, the figures in the message) even when
 * the client's packet limit lets such a packet in; nothing past the documented limits reaches the
 * responder or `onBanner`. A client that answers with an absurd number of responses gets
 * USERAUTH_FAILURE (RFC 4256 §3.4) without the server decoding them, and may try again; one past
 * the packet limit is a DISCONNECT. Bystanders stay intact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { decode, encode } from '../../lib/codec/schema.js';
import { MessageType } from '../../lib/codec/messages/transport.js';
import { UserauthBanner, UserauthFailure, UserauthRequest, connectionServiceName } from '../../lib/codec/messages/userauth.js';
import { AuthenticationError, DisconnectReason, ProtocolError } from '../../lib/errors.js';
import {
  decodeUserauthInfoRequest,
  encodeKeyboardInteractiveFields,
  encodeUserauthInfoResponse,
  keyboardInteractiveMethod,
} from '../../lib/auth/keyboard-interactive.js';
import { maxBannerBytes, maxInfoPrompts, maxInfoRequestBytes } from '../../lib/auth/client.js';
import { InfoRequest, type Prompt, type ServerAuthenticatingHandler } from '../../lib/auth/types.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { ServerSession } from '../../lib/server-session.js';
import { MAX_PACKET_LENGTH } from '../../lib/cipher/packet-length.js';
import { sessionPair } from '../helpers/pairs.js';
import { Bystander, HostileClient, hostileTestServer, type HostileTestServer } from '../helpers/hostile.js';

const MiB = 1024 * 1024;

function prompts(count: number, text = 'Code: '): Prompt[] {
  return Array.from({ length: count }, () => ({ prompt: text, echo: false }));
}

/** A client whose packet limit admits the most any opening key reads (16 MiB), so only the authentication limits can stop these. */
function roomyClient(): SessionConfig {
  const config = SessionConfig.default();
  config.maxPacketLength = MAX_PACKET_LENGTH;
  return config;
}

/** Our client's authentication ends with a DISCONNECT (protocol error) matching `text`, seen by both sides. */
async function expectClientDisconnects(client: ClientSession, server: ServerSession, attempt: Promise<boolean>, text: RegExp): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as Error).cause).toBeInstanceOf(ProtocolError);
  expect(((error as Error).cause as Error).message).toMatch(text);
  const serverSide = await server.closed.then(
    (info) => info,
    (e: { reason?: number; message: string }) => ({ reason: e.reason, description: e.message }),
  );
  expect(serverSide.reason).toBe(DisconnectReason.protocolError);
  expect(serverSide.description).toMatch(text);
  expect(client.isClosed).toBe(true);
}

describe('a hostile server against our client during authentication', () => {
  it(`answers ${maxInfoPrompts} prompts and is disconnected (PROTOCOL_ERROR) at one more`, async () => {
    const ask = (count: number): ServerAuthenticatingHandler => (e) =>
      e.authenticationType !== 'keyboard-interactive' ? false : e.responses ? e.responses.every((r) => r === 'ok') : new InfoRequest(prompts(count));
    const fine = await sessionPair({ authenticate: false, onAuthenticating: ask(maxInfoPrompts) });
    let asked = 0;
    const ok = await fine.client.authenticate({ username: 'user', keyboardInteractive: (p) => ((asked = p.length), p.map(() => 'ok')) });
    expect(ok).toBe(true);
    expect(asked).toBe(maxInfoPrompts);
    await fine.client.close();

    const { client, server } = await sessionPair({ authenticate: false, onAuthenticating: ask(maxInfoPrompts + 1) });
    let called = false;
    const attempt = client.authenticate({ username: 'user', keyboardInteractive: (p) => ((called = true), p.map(() => '')) });
    await expectClientDisconnects(client, server, attempt, new RegExp(`Server sent ${maxInfoPrompts + 1} keyboard-interactive prompts; limit is ${maxInfoPrompts}`));
    expect(called).toBe(false);
  });

  it('is disconnected (PROTOCOL_ERROR) for 100 000 prompts within a 16 MiB packet limit, before decoding them', async () => {
    const { client, server } = await sessionPair({
      authenticate: false,
      clientConfig: roomyClient(),
      onAuthenticating: (e) => (e.authenticationType === 'keyboard-interactive' ? new InfoRequest(prompts(100_000)) : false),
    });
    let called = false;
    const attempt = client.authenticate({ username: 'user', keyboardInteractive: (p) => ((called = true), p.map(() => '')) });
    await expectClientDisconnects(client, server, attempt, new RegExp(`Server sent a \\d+-byte keyboard-interactive request; limit is ${maxInfoRequestBytes}`));
    expect(called).toBe(false);
  });

  it('is disconnected (PROTOCOL_ERROR) for a 15 MiB prompt within the packet limit', async () => {
    const { client, server } = await sessionPair({
      authenticate: false,
      clientConfig: roomyClient(),
      onAuthenticating: (e) => (e.authenticationType === 'keyboard-interactive' ? new InfoRequest(prompts(1, 'p'.repeat(15 * MiB))) : false),
    });
    let called = false;
    const attempt = client.authenticate({ username: 'user', keyboardInteractive: (p) => ((called = true), p.map(() => '')) });
    await expectClientDisconnects(client, server, attempt, new RegExp(`Server sent a ${15 * MiB + 22}-byte keyboard-interactive request`));
    expect(called).toBe(false);
  });

  it('is disconnected (PROTOCOL_ERROR) by the packet limit for 100 000 prompts with default settings', async () => {
    const { client, server } = await sessionPair({
      authenticate: false,
      onAuthenticating: (e) => (e.authenticationType === 'keyboard-interactive' ? new InfoRequest(prompts(100_000)) : false),
    });
    const attempt = client.authenticate({ username: 'user', keyboardInteractive: (p) => p.map(() => '') });
    await expect(attempt).rejects.toThrow(AuthenticationError);
    const serverSide = await server.closed.catch((e: { reason?: number }) => e);
    expect(serverSide.reason).toBe(DisconnectReason.protocolError);
  });

  it('is disconnected (PROTOCOL_ERROR) for a 15 MiB banner within the packet limit, never handed to onBanner', async () => {
    const { client, server } = await sessionPair({ authenticate: false, clientConfig: roomyClient() });
    server.onAuthenticating = async () => {
      await server.sendMessage(encode(UserauthBanner, { message: 'b'.repeat(15 * MiB), languageTag: '' }));
      return false;
    };
    const banners: string[] = [];
    client.onBanner = (message) => banners.push(message);
    const attempt = client.authenticate({ username: 'user', password: 'secret' });
    await expectClientDisconnects(client, server, attempt, new RegExp(`Server sent ${15 * MiB + 9} bytes of banners; limit is ${maxBannerBytes}`));
    expect(banners).toHaveLength(0);
  });

  it('hands at most 64 KiB of a banner flood to onBanner, then disconnects (PROTOCOL_ERROR)', async () => {
    const { client, server } = await sessionPair({ authenticate: false });
    const banner = encode(UserauthBanner, { message: 'x'.repeat(100), languageTag: '' });
    server.onAuthenticating = async () => {
      for (let i = 0; i < 5000; i++) void server.sendMessage(banner).catch(() => {});
      return false;
    };
    let received = 0;
    client.onBanner = (message) => (received += message.length);
    const attempt = client.authenticate({ username: 'user', password: 'secret' });
    await expectClientDisconnects(client, server, attempt, new RegExp(`bytes of banners; limit is ${maxBannerBytes}`));
    // Each banner costs its 109-byte message against the limit; 601 of them fit.
    expect(received).toBe(Math.floor(maxBannerBytes / banner.length) * 100);
  });
});

describe('a hostile client against our server during keyboard-interactive', () => {
  let test: HostileTestServer | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('gets USERAUTH_FAILURE for 50 000 responses to one prompt, can try again, and a bystander is unharmed', async () => {
    test = await hostileTestServer();
    const seen: number[] = [];
    test.server.onSessionAuthenticating = (e) => {
      if (e.authenticationType === 'password') return e.username === 'user' && e.password === 'secret';
      if (e.authenticationType !== 'keyboard-interactive') return false;
      if (!e.responses) return new InfoRequest([{ prompt: 'Code: ', echo: false }]);
      seen.push(e.responses.length);
      return e.responses[0] === '42';
    };
    const bystander = await Bystander.connect(test.port);
    const hostile = await HostileClient.unauthenticated(test.connectInMemory());
    const request = encode(UserauthRequest, {
      userName: 'user',
      serviceName: connectionServiceName,
      methodName: keyboardInteractiveMethod,
      methodFields: encodeKeyboardInteractiveFields({ languageTag: '', submethods: [] }),
    });
    await hostile.send(request);
    expect(decodeUserauthInfoRequest(await hostile.next(60, 'INFO_REQUEST')).prompts).toHaveLength(1);
    // 50 000 responses of 1 byte: about 250 KB, inside the server's packet limit.
    await hostile.send(encodeUserauthInfoResponse(Array.from({ length: 50_000 }, () => 'x')));
    const failure = decode(UserauthFailure, await hostile.next(MessageType.UserauthFailure, 'USERAUTH_FAILURE'));
    expect(failure.partialSuccess).toBe(false);
    expect(seen).toEqual([]);
    // The exchange starts over and succeeds.
    await hostile.send(request);
    await hostile.next(60, 'INFO_REQUEST');
    await hostile.send(encodeUserauthInfoResponse(['42']));
    await hostile.next(MessageType.UserauthSuccess, 'USERAUTH_SUCCESS');
    expect(seen).toEqual([1]);
    expect(await bystander.roundTrip()).toBe(true);
    hostile.close();
    await bystander.close();
  });

  it('is disconnected (PROTOCOL_ERROR) for a response past the packet limit', async () => {
    test = await hostileTestServer();
    let called = false;
    test.server.onSessionAuthenticating = (e) => {
      if (e.authenticationType === 'password') return e.username === 'user' && e.password === 'secret';
      if (e.authenticationType !== 'keyboard-interactive') return false;
      if (e.responses) called = true;
      return e.responses ? false : new InfoRequest([{ prompt: 'Code: ', echo: false }]);
    };
    const bystander = await Bystander.connect(test.port);
    const hostile = await HostileClient.unauthenticated(test.connectInMemory());
    await hostile.send(
      encode(UserauthRequest, {
        userName: 'user',
        serviceName: connectionServiceName,
        methodName: keyboardInteractiveMethod,
        methodFields: encodeKeyboardInteractiveFields({ languageTag: '', submethods: [] }),
      }),
    );
    await hostile.next(60, 'INFO_REQUEST');
    await hostile.send(encodeUserauthInfoResponse(['r'.repeat(1 * MiB)]));
    const info = await hostile.disconnected();
    expect(info.initiatedBy).toBe('remote');
    expect(info.reason).toBe(DisconnectReason.protocolError);
    expect(called).toBe(false);
    expect(await bystander.roundTrip()).toBe(true);
    await bystander.close();
  });
});
