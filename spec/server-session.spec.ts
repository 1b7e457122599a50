import { describe, expect, it } from 'vitest';
import { ServerSession } from '../lib/server-session.js';
import { SessionConfig } from '../lib/config.js';
import { Transport } from '../lib/transport/transport.js';
import { encode, decode } from '../lib/codec/schema.js';
import { ServiceAccept, ServiceRequest } from '../lib/codec/messages/transport.js';
import { AuthenticationError } from '../lib/errors.js';
import { duplexPair } from './helpers/pipes.js';
import { sessionPair, testHostKey } from './helpers/pairs.js';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
}

describe('ServerSession', () => {
  it('exposes the principal the handler returned and how the client authenticated', async () => {
    const principal = { id: 42, roles: ['admin'] };
    const { server } = await sessionPair({ onAuthenticating: (e) => (e.password === 'secret' ? principal : false) });
    expect(server.principal).toBe(principal);
    await expect(server.authenticated).resolves.toMatchObject({ username: 'user', method: 'password', principal });
    expect(server.isAuthenticated).toBe(true);
  });

  it('refuses global requests and channel opens before authentication without calling handlers', async () => {
    const [a, b] = duplexPair();
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [await testHostKey()] });
    let handlerCalls = 0;
    server.onRequest = () => (handlerCalls++, true);
    server.onChannelOpening = () => void handlerCalls++;
    const client = new Transport({ isServer: false, config: SessionConfig.default() });
    const replies: number[] = [];
    client.onMessage = (p) => (replies.push(p[0]!), true);
    await Promise.all([client.connect(a), server.connect(b)]);
    const w = (await import('../lib/codec/wire.js')).SshWriter;
    await client.send(new w().byte(80).string('tcpip-forward').boolean(true).string('').uint32(0).toBytes());
    await client.send(new w().byte(90).string('session').uint32(7).uint32(1 << 20).uint32(32768).toBytes());
    await until(() => replies.length >= 2);
    expect(replies).toEqual([82, 92]);
    expect(handlerCalls).toBe(0);
    await client.close();
    await expect(server.authenticated).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('disconnects (PROTOCOL_ERROR) on channel data before authentication instead of dropping it', async () => {
    const [a, b] = duplexPair();
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [await testHostKey()] });
    const client = new Transport({ isServer: false, config: SessionConfig.default() });
    await Promise.all([client.connect(a), server.connect(b)]);
    const w = (await import('../lib/codec/wire.js')).SshWriter;
    await client.send(new w().byte(94).uint32(3).string('early bytes').toBytes());
    const error = await client.closed.catch((e) => e);
    expect(error).toMatchObject({ reason: 2, description: 'Channel message 94 for channel 3 before authentication' });
  });

  it('activates a service registered for a service request after authentication', async () => {
    const serverConfig = SessionConfig.default();
    const created: unknown[] = [];
    serverConfig.addService('my-service', { serviceRequest: 'my-service@example.com' }, (session) => {
      created.push(session);
      return {};
    });
    const clientConfig = SessionConfig.default();
    const accepted: string[] = [];
    clientConfig.messageHandlers.set(6, (payload) => void accepted.push(decode(ServiceAccept, payload).serviceName));
    const { client, server } = await sessionPair({ serverConfig, clientConfig });
    await client.sendMessage(encode(ServiceRequest, { serviceName: 'my-service@example.com' }));
    await until(() => accepted.length === 1);
    expect(accepted).toEqual(['my-service@example.com']);
    expect(created).toEqual([server]);
    await client.sendMessage(encode(ServiceRequest, { serviceName: 'unknown-service' }));
    const closed = await client.closed.catch((e) => e);
    expect(closed.reason).toBe(7);
  });

  it('activates a service by global request type and lets it answer', async () => {
    const serverConfig = SessionConfig.default();
    serverConfig.addService('echo', { sessionRequest: 'echo@example.com' }, () => ({
      onSessionRequest: (e: { data: Uint8Array; responseData?: Uint8Array }) => {
        e.responseData = e.data;
        return true;
      },
    }));
    const { client } = await sessionPair({ serverConfig });
    const reply = await client.requestWithReply({ requestType: 'echo@example.com', wantReply: true, data: new Uint8Array([1, 2, 3]) });
    expect(reply.success).toBe(true);
    expect([...reply.data]).toEqual([1, 2, 3]);
    expect(await client.request({ requestType: 'nobody-handles-this', wantReply: true })).toBe(false);
    await client.close();
  });

  it('closes the session when keepalives go unanswered', async () => {
    const clientConfig = Object.assign(SessionConfig.default(), { keepAliveInterval: 0.02, keepAliveCountMax: 2 });
    const [a, b] = duplexPair();
    // The link stops delivering server-to-client bytes once authenticated: the server looks dead.
    let deliver = true;
    const gate = new TransformStream<Uint8Array, Uint8Array>({ transform: (c, ctl) => (deliver ? ctl.enqueue(c) : undefined) });
    void b.readable.pipeTo(gate.writable).catch(() => {});
    const { client } = await sessionPair({ clientConfig, link: [a, { readable: gate.readable, writable: b.writable }] });
    void client; // authenticated above
    deliver = false;
    const end = await client.closed.catch((e) => e);
    expect(end.reason).toBe(10);
    expect(end.message).toMatch(/Keepalive/);
  });
});

describe('SessionConfig.defaultWithReconnect()', () => {
  it('announces session-reconnect and session-latency in EXT_INFO, which default() does not', async () => {
    const reconnecting = await sessionPair({ clientConfig: SessionConfig.defaultWithReconnect(), serverConfig: SessionConfig.defaultWithReconnect() });
    for (const session of [reconnecting.client, reconnecting.server]) {
      expect([...session.peerExtensions!.keys()]).toEqual(expect.arrayContaining(['session-reconnect@microsoft.com', 'session-latency@microsoft.com']));
    }
    const plain = await sessionPair();
    for (const session of [plain.client, plain.server]) {
      expect([...session.peerExtensions!.keys()]).not.toContain('session-reconnect@microsoft.com');
      expect([...session.peerExtensions!.keys()]).not.toContain('session-latency@microsoft.com');
    }
    await reconnecting.client.close();
    await plain.client.close();
  });

  it('leaves both sides disconnected, not closed, after close(CONNECTION_LOST); another close ends them', async () => {
    const { client, server } = await sessionPair({ clientConfig: SessionConfig.defaultWithReconnect(), serverConfig: SessionConfig.defaultWithReconnect() });
    const channel = await client.openChannel();
    const serverDisconnected = new Promise<Error>((resolve) => (server.onDisconnected = resolve));
    await client.close(10, 'network went away');
    expect((await serverDisconnected).message).toMatch(/reason 10/);
    for (const session of [client, server]) expect([session.isConnected, session.isDisconnected, session.isClosed]).toEqual([false, true, false]);
    // Sends while disconnected succeed: they wait in the cache for a reconnect.
    const writer = channel.writable.getWriter();
    await writer.write(new Uint8Array(1000));
    await client.close();
    await expect(client.closed).resolves.toMatchObject({ reason: 11 });
    expect(client.isClosed).toBe(true);
    await server.close(2, 'gone');
    expect(server.isClosed).toBe(true);
  });

  it('disconnects (does not close) a reconnect-enabled session whose keepalives go unanswered', async () => {
    const clientConfig = Object.assign(SessionConfig.defaultWithReconnect(), { keepAliveInterval: 0.02, keepAliveCountMax: 2 });
    const [a, b] = duplexPair();
    let deliver = true;
    const gate = new TransformStream<Uint8Array, Uint8Array>({ transform: (c, ctl) => (deliver ? ctl.enqueue(c) : undefined) });
    void b.readable.pipeTo(gate.writable).catch(() => {});
    const link: [typeof a, typeof b] = [a, { readable: gate.readable, writable: b.writable }];
    const { client } = await sessionPair({ clientConfig, serverConfig: SessionConfig.defaultWithReconnect(), link });
    const lost = new Promise<Error>((resolve) => (client.onDisconnected = resolve));
    deliver = false;
    expect((await lost).message).toMatch(/Keepalive/);
    expect([client.isDisconnected, client.isClosed]).toEqual([true, false]);
    await client.close();
  });

  it('closes a session without reconnection when its stream is lost', async () => {
    const { client, server } = await sessionPair({ clientConfig: SessionConfig.defaultWithReconnect() });
    await client.close(10, 'network went away');
    const end = await server.closed.catch((e: Error) => e);
    expect(end).toBeInstanceOf(Error);
    expect(server.isClosed).toBe(true);
    expect(client.isClosed).toBe(true);
  });
});
