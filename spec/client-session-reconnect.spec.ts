import { describe, expect, it } from 'vitest';
import { ClientSession } from '../lib/client-session.js';
import { ServerSession } from '../lib/server-session.js';
import { SessionConfig } from '../lib/config.js';
import { duplexPair, type ByteDuplex } from './helpers/pipes.js';
import { faultyDuplex, type FaultyDuplex } from './helpers/faults.js';
import { testHostKey } from './helpers/pairs.js';

/**
 * A link whose client-to-server bytes stop reaching the server once `hold()` is called. The
 * client reads 16 bytes per macrotask, as from a slow socket: the server's EXT_INFO then arrives
 * after the client's key exchange completed (as when TCP splits it from NEWKEYS), so the client's
 * enable request goes out after its reconnect request.
 */
function holdableLink(): { client: FaultyDuplex; server: ByteDuplex; hold(): void } {
  const [pipeNear, far] = duplexPair();
  const source = pipeNear.readable.getReader();
  let rest: Uint8Array = new Uint8Array(0);
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        await new Promise((resolve) => setImmediate(resolve));
        if (rest.length === 0) {
          const { value, done } = await source.read();
          if (done) return controller.close();
          rest = value;
        }
        controller.enqueue(rest.subarray(0, 16));
        rest = rest.subarray(16);
      },
      cancel: (reason) => source.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  const near = { readable, writable: pipeNear.writable };
  let held = false;
  const inner = near.writable.getWriter();
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => (held ? undefined : inner.write(chunk)),
    close: () => inner.close(),
    abort: (reason) => inner.abort(reason),
  });
  return { client: faultyDuplex({ readable: near.readable, writable }), server: far, hold: () => (held = true) };
}

const lost = (session: ClientSession | ServerSession): Promise<void> =>
  new Promise((resolve) => (session.onDisconnected = () => resolve()));

describe('ClientSession.reconnect', () => {
  it('resumes again after a resumed connection died before the server read the enable request', async () => {
    const hostKey = await testHostKey();
    const reconnectable = new Set<ServerSession>();
    const serve = (link: ByteDuplex): ServerSession => {
      const server = new ServerSession(SessionConfig.defaultWithReconnect(), { hostKeys: [hostKey], reconnectableSessions: reconnectable });
      server.onAuthenticating = (e) => e.password === 'secret';
      void server.connect(link).catch(() => {});
      return server;
    };
    const first = holdableLink();
    const server = serve(first.server);
    const client = new ClientSession(SessionConfig.defaultWithReconnect());
    client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
    await client.connect(first.client);
    expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
    const accepted = server.acceptChannel();
    const channel = await client.openChannel();
    const serverChannel = await accepted;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(server.isConnected && reconnectable.has(server)).toBe(true);

    let down = Promise.all([lost(client), lost(server)]);
    first.client.trip();
    await down;

    // The second connection: once the server resumed on it, nothing more the client sends
    // reaches the server, so it never reads the client's enable-session-reconnect request.
    const second = holdableLink();
    serve(second.server);
    server.onReconnected = () => second.hold();
    await client.reconnect(second.client);
    expect(server.metrics.reconnections).toBe(1);
    // Sent on the second connection after the enable request: held, so the server never sees it.
    const writer = channel.writable.getWriter();
    await writer.write(new TextEncoder().encode('written on the second connection; '));
    down = Promise.all([lost(client), lost(server)]);
    second.client.trip();
    await down;

    const third = holdableLink();
    serve(third.server);
    await client.reconnect(third.client);
    expect([client.metrics.reconnections, server.metrics.reconnections]).toEqual([2, 2]);

    await writer.write(new TextEncoder().encode('after two reconnects'));
    await writer.close();
    const received = await new Response(serverChannel.readable).text();
    expect(received).toBe('written on the second connection; after two reconnects');
    await client.close();
  });
});
