import { describe, expect, it } from 'vitest';
import { TcpClient, TcpServer } from '../../lib/tcp/index.js';
import { SessionConfig } from '../../lib/config.js';
import { readAll } from '../helpers/pipes.js';
import { testHostKey } from '../helpers/pairs.js';

describe('TcpServer and TcpClient', () => {
  it('serve sessions over 127.0.0.1 and survive a client that sends garbage', async () => {
    const hostKey = await testHostKey();
    const server = new TcpServer(SessionConfig.default());
    server.credentials = { hostKeys: [hostKey] };
    server.onSessionAuthenticating = (e) => e.username === 'admin' && e.password === 'secret';
    const errors: unknown[] = [];
    server.onSessionError = (e) => errors.push(e);
    server.onSessionOpened = (session) => {
      void (async () => {
        for await (const ch of session.channels) void ch.readable.pipeTo(ch.writable).catch(() => {});
      })();
    };
    await server.listen(0, '127.0.0.1');
    const port = server.port!;

    const { connect } = await import('node:net');
    const junk = connect(port, '127.0.0.1');
    junk.on('error', () => {});
    junk.resume();
    junk.write('GET / HTTP/1.0\r\n\r\n');
    await new Promise((r) => junk.once('close', r));

    const client = new TcpClient(SessionConfig.default());
    client.onSessionAuthenticating = (e) => e.publicKey.equals(hostKey);
    const sessions = await Promise.all([1, 2, 3].map(() => client.openSession('127.0.0.1', port)));
    for (const [i, session] of sessions.entries()) {
      expect(await session.authenticate({ username: 'admin', password: 'secret' })).toBe(true);
      const ch = await session.openChannel();
      const w = ch.writable.getWriter();
      void w.write(new TextEncoder().encode(`session ${i}`)).then(() => w.close());
      expect(Buffer.from(await readAll(ch.readable)).toString()).toBe(`session ${i}`);
    }
    expect(errors.length).toBe(1);
    expect(String(errors[0])).toMatch(/Expected an SSH identification line/);
    await client.close();
    await server.close();
    expect(server.sessions.size).toBe(0);
  });

  it('reports a refused TCP connection as an SshError', async () => {
    const client = new TcpClient();
    await expect(client.openSession('127.0.0.1', 1)).rejects.toThrow(/Cannot connect to 127.0.0.1:1/);
  });
});
