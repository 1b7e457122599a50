import { createHash } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import { SessionConfig } from '../../lib/config.js';
import { SshError } from '../../lib/errors.js';
import { toDuplex } from '../../lib/transport/byte-stream-adapter.js';
import { testHostKey } from '../helpers/pairs.js';
import { duplexPair } from '../helpers/pipes.js';

/** Both ends of one 127.0.0.1 TCP connection, as node:net Sockets. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  const serverSide = await accepted;
  server.close();
  return [client, serverSide];
}

describe('connect() with a node:net Socket', () => {
  it('runs both sessions over raw sockets through the project adapter and moves 4 MiB intact', async () => {
    const [clientSocket, serverSocket] = await socketPair();
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [await testHostKey()] });
    server.onAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
    const client = new ClientSession(SessionConfig.default());
    client.onAuthenticating = () => true;
    await Promise.all([server.connect(serverSocket), client.connect(clientSocket)]);
    expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
    const [channel, accepted] = await Promise.all([client.openChannel(), server.acceptChannel()]);
    const data = new Uint8Array(4 << 20).map((_, i) => (i * 7) & 0xff);
    const sent = (async () => {
      const writer = channel.writable.getWriter();
      for (let at = 0; at < data.length; at += 100_000) await writer.write(data.subarray(at, at + 100_000));
      await writer.close();
    })();
    const hash = createHash('sha256');
    for await (const chunk of accepted.readable) hash.update(chunk);
    await sent;
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    await client.close();
    await server.closed.catch(() => {});
    expect(clientSocket.destroyed || clientSocket.writableEnded).toBe(true);
  });

  it('passes a Web Streams pair through unchanged', () => {
    const [a] = duplexPair();
    expect(toDuplex(a)).toBe(a);
  });

  it('refuses anything else with an SshError naming what it got and what it takes', async () => {
    const client = new ClientSession(SessionConfig.default());
    const attempt = client.connect({ readable: 'no', writable: 'no' } as never);
    await expect(attempt).rejects.toThrow(SshError);
    await expect(attempt).rejects.toThrow(
      'connect() needs a { readable, writable } pair of Web Streams or a connected node:net Socket; got Object',
    );
    expect(() => toDuplex(new Map() as never)).toThrow('got Map');
  });
});
