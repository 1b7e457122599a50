/**
 * Compression interop with the `ssh2` npm package, both ways, for zlib@openssh.com and zlib:
 * its Client echoes compressible data through our server (with a re-key from our side midway),
 * and our client runs `cat` on its Server. Hashes match and the wire carries far fewer bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { ssh2Ed25519KeyPair } from '../../bench/ssh2-keys.js';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { importKey } from '../../lib/keys/index.js';
import type { Channel } from '../../lib/mux/channel.js';
import type { ServerSession } from '../../lib/server-session.js';
import { connectClient, hashStream, startExecServer, type ExecServer } from './interop-sessions.js';
import { logText } from '../helpers/compressible.js';

const MiB = 1024 * 1024;
const username = 'alice';
const password = 'ssh2-compression-Password';
const methods = ['zlib@openssh.com', 'zlib'] as const;


const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A process-less `echo` subsystem: returns what it reads, then closes with status 0. */
function serveEcho(channel: Channel): void {
  channel.onRequest = (e) => {
    if (e.requestType !== 'subsystem' || e.subsystem !== 'echo') return false;
    void channel.readable
      .pipeTo(channel.writable)
      .then(() => channel.close({ exitStatus: 0 }))
      .catch(() => {});
    return true;
  };
}

describe('ssh2 interop: the ssh2 Client with compression against our server', () => {
  let server: ExecServer;
  let hostKey: KeyPair;
  const sessions: ServerSession[] = [];

  beforeAll(async () => {
    hostKey = await generateKeyPair('ssh-ed25519');
    // Plain zlib too: the default list leaves it out (it compresses before authentication).
    const config = SessionConfig.default();
    config.compressionAlgorithms = ['none', 'zlib@openssh.com', 'zlib'];
    server = await startExecServer({
      hostKeys: [hostKey],
      config,
      onChannel: serveEcho,
      onSession: (session) => sessions.push(session),
      onAuthenticating: (e) => e.username === username && e.password === password,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(methods)('echoes 8 MiB through a subsystem under %s, with a re-key from our side midway', async (method) => {
    const client = new ssh2.Client();
    let negotiated: ssh2.NegotiatedAlgorithms | undefined;
    client.on('handshake', (n) => (negotiated = n));
    const ready = once(client, 'ready');
    client.connect({
      host: '127.0.0.1',
      port: server.port,
      username,
      password,
      algorithms: { compress: [method] },
      hostVerifier: (key: Buffer) => key.equals(hostKey.publicKeyBlob),
      readyTimeout: 10_000,
    });
    try {
      await ready;
      expect(negotiated?.cs.compress).toBe(method);
      expect(negotiated?.sc.compress).toBe(method);
      const session = sessions.at(-1)!;
      expect(session.algorithms?.compressionServerToClient).toBe(method);
      const stream = await new Promise<ClientChannel>((resolve, reject) =>
        client.subsys('echo', (error, s) => (error ? reject(error) : resolve(s))),
      );
      const data = logText(8 * MiB);
      const hash = createHash('sha256');
      let received = 0;
      stream.on('data', (d: Buffer) => {
        hash.update(d);
        received += d.length;
      });
      const closed = once(stream, 'close');
      const kexBefore = session.metrics.keyExchanges;
      const before = session.metrics;
      for (let at = 0; at < data.length; at += 256 * 1024) {
        if (at === 4 * MiB) await session.rekey();
        if (!stream.write(data.subarray(at, at + 256 * 1024))) await once(stream, 'drain');
      }
      stream.end();
      await closed;
      expect(received).toBe(data.length);
      expect(hash.digest('hex')).toBe(sha256(data));
      expect(session.metrics.keyExchanges).toBe(kexBefore + 1);
      expect(session.metrics.bytesReceived - before.bytesReceived).toBeLessThan(data.length / 3);
      expect(session.metrics.bytesSent - before.bytesSent).toBeLessThan(data.length / 3);
    } finally {
      client.end();
    }
  }, 60_000);
});

describe('ssh2 interop: our client with compression against the ssh2 Server', () => {
  let server: ssh2.Server;
  let port: number;
  let hostKey: KeyPair;
  const connections = new Set<ssh2.Connection>();

  beforeAll(async () => {
    const hostKeys = ssh2Ed25519KeyPair();
    hostKey = await importKey(hostKeys.public);
    server = new ssh2.Server(
      { hostKeys: [hostKeys.private], algorithms: { compress: ['none', 'zlib@openssh.com', 'zlib'] } },
      (connection) => {
        connections.add(connection);
        connection.on('close', () => connections.delete(connection));
        connection.on('error', () => {});
        connection.on('authentication', (ctx) =>
          ctx.method === 'password' && ctx.username === username && ctx.password === password ? ctx.accept() : ctx.reject(['password']),
        );
        connection.on('ready', () => {
          connection.on('session', (accept) => {
            accept().on('exec', (acceptExec) => {
              const stream = acceptExec();
              stream.pipe(stream, { end: false });
              stream.once('end', () => {
                stream.exit(0);
                stream.end();
              });
            });
          });
        });
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const connection of connections) connection.end();
    await new Promise((resolve) => server?.close(resolve));
  });

  it.each(methods)('round-trips 8 MiB through cat on the ssh2 server under %s, with a re-key midway', async (method) => {
    const config = SessionConfig.default();
    config.compressionAlgorithms = [method, 'none'];
    const client = await connectClient(port, [hostKey], config);
    try {
      expect(client.algorithms?.compressionClientToServer).toBe(method);
      expect(client.algorithms?.compressionServerToClient).toBe(method);
      expect(await client.authenticate({ username, password })).toBe(true);
      const data = logText(8 * MiB);
      const before = client.metrics;
      const channel = await client.openChannel();
      expect(await channel.exec('cat')).toBe(true);
      const writing = (async () => {
        const writer = channel.writable.getWriter();
        for (let at = 0; at < data.length; at += MiB) {
          if (at === 4 * MiB) await client.rekey();
          await writer.write(data.subarray(at, at + MiB));
        }
        await writer.close();
      })();
      const [echoed] = await Promise.all([hashStream(channel.readable), writing]);
      expect(echoed).toEqual({ hash: sha256(data), bytes: data.length });
      expect(client.metrics.bytesSent - before.bytesSent).toBeLessThan(data.length / 3);
      expect(client.metrics.bytesReceived - before.bytesReceived).toBeLessThan(data.length / 3);
    } finally {
      await client.close();
    }
  }, 60_000);
});
