import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { TcpClient, TcpServer } from '../../lib/tcp/index.js';
import type { ClientSession } from '../../lib/client-session.js';
import { SessionConfig } from '../../lib/config.js';
import { StartupLimiter, shouldDrop } from '../../lib/tcp/startup-limits.js';
import { testHostKey } from '../helpers/pairs.js';

describe('shouldDrop (OpenSSH MaxStartups)', () => {
  const limits = { start: 10, rate: 30, full: 100 };

  it('accepts below start, drops at full, and in between drops with a probability rising from rate to 100 %', () => {
    expect(shouldDrop(9, limits, () => 0)).toBe(false);
    expect(shouldDrop(100, limits, () => 0.999)).toBe(true);
    // At start: 30 %.
    expect(shouldDrop(10, limits, () => 0.29)).toBe(true);
    expect(shouldDrop(10, limits, () => 0.3)).toBe(false);
    // Half-way (55): 30 + 70 / 2 = 65 %.
    expect(shouldDrop(55, limits, () => 0.64)).toBe(true);
    expect(shouldDrop(55, limits, () => 0.65)).toBe(false);
  });

  it('never drops more often as the count falls (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 120 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        if (shouldDrop(n, limits, () => r)) expect(shouldDrop(n + 1, limits, () => r)).toBe(true);
      }),
    );
  });

  it('counts per source and releases', () => {
    const limiter = new StartupLimiter();
    const options = { maxStartups: limits, perSource: 2, random: () => 0 };
    expect(limiter.admit('a', options)).toBe(true);
    expect(limiter.admit('a', options)).toBe(true);
    expect(limiter.admit('a', options)).toBe(false);
    expect(limiter.admit('b', options)).toBe(true);
    limiter.release('a');
    expect(limiter.admit('a', options)).toBe(true);
    expect(limiter.unauthenticated).toBe(3);
  });
});

let server: TcpServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function startServer(configure: (s: TcpServer) => void, config = SessionConfig.default()): Promise<TcpServer> {
  const s = new TcpServer(config);
  s.credentials = { hostKeys: [await testHostKey()] };
  s.onSessionAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
  configure(s);
  await s.listen(0, '127.0.0.1');
  server = s;
  return s;
}

/** A raw TCP connection that never speaks; resolves 'admitted' when the server's identification line arrives, 'dropped' on close first. */
function silentConnection(port: number, localAddress = '127.0.0.1'): Promise<'admitted' | 'dropped'> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    socket.on('error', () => {});
    socket.once('data', (chunk) => resolve(chunk.toString('latin1').startsWith('SSH-2.0-') ? 'admitted' : 'dropped'));
    socket.once('close', () => resolve('dropped'));
  });
}

describe('TcpServer before authentication', () => {
  it('drops connections past MaxStartups start:rate:full with the injected randomness', async () => {
    const draws = [0.99, 0.1];
    const dropped: string[] = [];
    const s = await startServer((t) => {
      t.maxStartups = { start: 2, rate: 50, full: 4 };
      t.random = () => draws.shift() ?? 0;
      t.onConnectionDropped = (address) => dropped.push(address);
    });
    expect(await silentConnection(s.port!)).toBe('admitted');
    expect(await silentConnection(s.port!)).toBe('admitted');
    expect(await silentConnection(s.port!)).toBe('admitted'); // 2 waiting: 50 %, drew 99
    expect(await silentConnection(s.port!)).toBe('dropped'); // 3 waiting: 75 %, drew 10
    expect(s.unauthenticatedSessions).toBe(3);
    expect(dropped).toEqual(['127.0.0.1']);
  });

  it('frees the slot once a session authenticates or ends', async () => {
    const s = await startServer((t) => {
      t.maxStartups = { start: 1, rate: 100, full: 1 };
    });
    const client = await openClient(s.port!);
    expect(await silentConnection(s.port!)).toBe('dropped');
    expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
    expect(s.unauthenticatedSessions).toBe(0);
    expect(await silentConnection(s.port!)).toBe('admitted');
    await client.close();
  });

  it('caps unauthenticated connections per source address', async () => {
    const s = await startServer((t) => {
      t.maxStartupsPerSource = 2;
    });
    expect(await silentConnection(s.port!)).toBe('admitted');
    expect(await silentConnection(s.port!)).toBe('admitted');
    expect(await silentConnection(s.port!)).toBe('dropped');
    expect(await silentConnection(s.port!, '127.0.0.2')).toBe('admitted');
  });

  it('disconnects a client that does not authenticate within the login grace time', async () => {
    const config = SessionConfig.default();
    config.authenticationTimeout = 300;
    const s = await startServer(() => {}, config);
    const client = await openClient(s.port!);
    const info = await client.closed;
    expect(info).toMatchObject({ reason: 11, description: 'Authentication timed out after 300 ms', initiatedBy: 'remote' });
    expect(s.unauthenticatedSessions).toBe(0);
  });

  it('closes a connection that never sends its identification line after the key exchange timeout', async () => {
    const config = SessionConfig.default();
    config.keyExchangeTimeout = 300;
    const s = await startServer(() => {}, config);
    const socket = connect(s.port!, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => {});
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    expect(s.unauthenticatedSessions).toBe(0);
  });
});

async function openClient(port: number): Promise<ClientSession> {
  const tcp = new TcpClient(SessionConfig.default());
  const hostKey = await testHostKey();
  tcp.onSessionAuthenticating = (e) => e.publicKey.equals(hostKey);
  return tcp.openSession('127.0.0.1', port);
}

async function authenticatedClient(port: number): Promise<ClientSession> {
  const client = await openClient(port);
  expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
  return client;
}

describe('TcpServer.close', () => {
  it('stops accepting and lets sessions end by themselves within the grace period', async () => {
    const s = await startServer(() => {});
    const client = await authenticatedClient(s.port!);
    const port = s.port!;
    server = undefined;
    const closing = s.close({ gracePeriod: 60_000 });
    expect(await silentConnection(port)).toBe('dropped');
    expect(client.isClosed).toBe(false);
    expect(await client.request({ requestType: 'still-here@example.com', wantReply: true })).toBe(false);
    await client.close();
    await closing;
    expect(s.sessions.size).toBe(0);
  });

  it('closes the sessions still open when the grace period ends', async () => {
    const s = await startServer(() => {});
    const client = await authenticatedClient(s.port!);
    server = undefined;
    await s.close({ gracePeriod: 50 });
    const info = await client.closed;
    expect(info).toMatchObject({ reason: 11, description: 'Server is shutting down', initiatedBy: 'remote' });
  });
});
