import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import { SessionConfig } from '../../lib/config.js';
import { DisconnectError } from '../../lib/errors.js';
import { duplexPair } from '../helpers/pipes.js';
import { testHostKey } from '../helpers/pairs.js';

const TIMEOUT = 60_000;

function config(reconnectTimeout = TIMEOUT): SessionConfig {
  return Object.assign(SessionConfig.defaultWithReconnect(), { reconnectTimeout });
}

/** An authenticated client and server over memory pipes, both reconnectable. */
async function reconnectablePair(timeouts: { client?: number; server?: number } = {}) {
  const hostKeys = [await testHostKey()];
  const sessions = new Set<ServerSession>();
  const [a, b] = duplexPair();
  const client = new ClientSession(config(timeouts.client));
  const server = new ServerSession(config(timeouts.server), { hostKeys, reconnectableSessions: sessions });
  client.onAuthenticating = (e) => e.publicKey.equals(hostKeys[0]!);
  server.onAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
  await Promise.all([client.connect(a), server.connect(b)]);
  expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
  /** Resumes the client on new pipes, through a fresh server session as a TcpServer would. */
  const resume = async (): Promise<void> => {
    const [c, d] = duplexPair();
    const fresh = new ServerSession(config(timeouts.server), { hostKeys, reconnectableSessions: sessions });
    await Promise.all([client.reconnect(c), fresh.connect(d)]);
  };
  return { client, server, resume };
}

/** Drops the link (close with CONNECTION_LOST) and waits until both sides noticed. */
async function loseLink(client: ClientSession, server: ServerSession): Promise<void> {
  const serverLost = new Promise<void>((resolve) => (server.onDisconnected = () => resolve()));
  await client.close(10, 'network went away');
  await serverLost;
  for (const session of [client, server]) expect([session.isDisconnected, session.isClosed]).toEqual([true, false]);
}

describe('config.reconnectTimeout', () => {
  afterEach(() => void vi.useRealTimers());

  it('closes both disconnected sessions for good once the timeout passed without a reconnect, with the reason in closed', async () => {
    const { client, server } = await reconnectablePair();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await loseLink(client, server);
    vi.advanceTimersByTime(TIMEOUT - 1);
    expect([client.isClosed, server.isClosed]).toEqual([false, false]);
    vi.advanceTimersByTime(1);
    for (const session of [client, server]) {
      const end = await session.closed.catch((e: unknown) => e);
      expect(end).toBeInstanceOf(DisconnectError);
      expect((end as DisconnectError).reason).toBe(10);
      expect((end as Error).message).toMatch(/Session was not reconnected within 60000 ms/);
      expect([session.isClosed, session.isDisconnected]).toEqual([true, false]);
    }
    await expect(client.openChannel()).rejects.toThrow(/not reconnected within/);
    await expect(client.reconnect(duplexPair()[0])).rejects.toThrow(/session is closed/);
  });

  it('waits forever with 0', async () => {
    const { client, server } = await reconnectablePair({ client: 0, server: 0 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await loseLink(client, server);
    vi.advanceTimersByTime(24 * 60 * 60 * 1000);
    expect([client.isDisconnected, server.isDisconnected]).toEqual([true, true]);
    await client.close();
    await server.close();
  });

  it('stops counting once the session reconnected, and counts afresh from the next loss', async () => {
    const { client, server, resume } = await reconnectablePair();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await loseLink(client, server);
    vi.advanceTimersByTime(TIMEOUT - 1_000);
    await resume();
    expect([client.isConnected, server.isConnected]).toEqual([true, true]);
    vi.advanceTimersByTime(2 * TIMEOUT);
    expect([client.isConnected, server.isConnected]).toEqual([true, true]);
    expect(client.metrics.reconnections).toBe(1);

    await loseLink(client, server);
    vi.advanceTimersByTime(TIMEOUT - 1);
    expect([client.isClosed, server.isClosed]).toEqual([false, false]);
    vi.advanceTimersByTime(1);
    expect([client.isClosed, server.isClosed]).toEqual([true, true]);
  });

  it('closes only the side whose timeout passed: the server keeps waiting while the client gave up', async () => {
    const { client, server } = await reconnectablePair({ client: 1_000, server: 0 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await loseLink(client, server);
    vi.advanceTimersByTime(1_000);
    await expect(client.closed).rejects.toThrow(/not reconnected within 1000 ms/);
    expect([server.isDisconnected, server.isClosed]).toEqual([true, false]);
    await server.close();
  });

  it('fails a reconnect under way when the client timeout passes meanwhile, leaving the server session untouched', async () => {
    const { client, server, resume } = await reconnectablePair({ client: 1_000, server: 0 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await loseLink(client, server);
    const attempt = resume().catch((e: unknown) => e);
    vi.advanceTimersByTime(1_000);
    expect(await attempt).toMatchObject({ message: 'Cannot reconnect: the session closed while reconnecting' });
    expect(client.isClosed).toBe(true);
    expect([server.isDisconnected, server.metrics.reconnections]).toEqual([true, 0]);
    await server.close();
  });
});
