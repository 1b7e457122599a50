/**
 * Kex `none` against @microsoft/dev-tunnels-ssh's no-security configuration, both ways: the two
 * KEXINITs are the whole key exchange (no NEWKEYS), and channels open without authentication.
 */
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import * as dt from '@microsoft/dev-tunnels-ssh';
import { SessionConfig } from '../../lib/config.js';
import { ClientSession } from '../../lib/client-session.js';
import { TcpServer } from '../../lib/tcp/index.js';
import { socketToDuplex } from '../../lib/tcp/socket-duplex.js';
import type { Channel } from '../../lib/mux/channel.js';
import { MiB, Queue, transferBothWays } from './dev-tunnels-peers.js';

describe('dev-tunnels-ssh without security', () => {
  it('their no-security client opens a channel on our noSecurity server without authenticating', async () => {
    const server = new TcpServer(SessionConfig.noSecurity());
    const channels = new Queue<Channel>();
    server.onSessionOpened = (session) => {
      void (async () => {
        for await (const ch of session.channels) channels.push(ch);
      })();
    };
    await server.listen(0, '127.0.0.1');
    const socket = netConnect(server.port!, '127.0.0.1');
    await once(socket, 'connect');
    const client = new dt.SshClientSession(new dt.SshSessionConfiguration(false));
    try {
      await client.connect(new dt.NodeStream(socket));
      const theirs = await client.openChannel();
      const ours = await channels.take();
      await transferBothWays(theirs, ours, 2 * MiB, 71);
      const session = [...server.sessions][0]!;
      expect(session.algorithms).toMatchObject({ kex: 'none', encryptionClientToServer: 'none' });
      expect(session.isAuthenticated).toBe(false);
    } finally {
      await client.close(dt.SshDisconnectReason.byApplication);
      await server.close();
    }
  });

  it('our noSecurity client opens a channel on their no-security server without authenticating', async () => {
    const opened = new Queue<dt.SshChannel>();
    const sessions: dt.SshServerSession[] = [];
    const tcp = createServer((socket: Socket) => {
      const session = new dt.SshServerSession(new dt.SshSessionConfiguration(false));
      sessions.push(session);
      session.onChannelOpening((e) => opened.push(e.channel));
      session.connect(new dt.NodeStream(socket)).catch(() => session.dispose());
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const socket = netConnect((tcp.address() as { port: number }).port, '127.0.0.1');
    await once(socket, 'connect');
    const client = new ClientSession(SessionConfig.noSecurity());
    try {
      await client.connect(socketToDuplex(socket));
      expect(client.algorithms!.kex).toBe('none');
      const ours = await client.openChannel();
      const theirs = await opened.take();
      await transferBothWays(theirs, ours, 2 * MiB, 72);
    } finally {
      await client.close();
      await Promise.all(sessions.map((s) => s.close(dt.SshDisconnectReason.byApplication)));
      await new Promise((resolve) => tcp.close(resolve));
    }
  });
});
