import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:net';
import { bindAddress, boundPort, connectTcp, listenTcp, TcpRegistry } from '../../lib/forwarding/tcp-endpoints.js';
import { resetSocket } from '../../lib/forwarding/socket-pump.js';
import { readToEnd, tcpConnect, waitUntil } from './tcp-fixtures.js';

describe('bindAddress', () => {
  it.each([
    ['', '0.0.0.0'],
    ['*', '0.0.0.0'],
    ['localhost', '127.0.0.1'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['192.0.2.7', '192.0.2.7'],
  ])('maps the address to bind %j to %j', (address, expected) => {
    expect(bindAddress(address)).toBe(expected);
  });
});

describe('listenTcp and connectTcp', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it('binds a free port when 0 is asked for and refuses a port in use', async () => {
    const server = await listenTcp('127.0.0.1', 0);
    servers.push(server);
    expect(boundPort(server)).toBeGreaterThan(0);
    await expect(listenTcp('127.0.0.1', boundPort(server))).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('connects to a listener by name and fails with the system error when nothing listens', async () => {
    const server = await listenTcp('127.0.0.1', 0);
    servers.push(server);
    const port = boundPort(server);
    const socket = await connectTcp('localhost', port);
    expect(socket.remotePort).toBe(port);
    socket.destroy();
    server.close();
    await expect(connectTcp('127.0.0.1', port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('TcpRegistry', () => {
  it('counts live sockets and listeners and resets them all at once', async () => {
    const registry = new TcpRegistry();
    const server = await listenTcp('127.0.0.1', 0);
    registry.addServer(server);
    const accepted = new Promise<import('node:net').Socket>((resolve) => server.once('connection', resolve));
    const client = await tcpConnect(boundPort(server));
    const ended = readToEnd(client).then(
      () => 'end',
      (e: NodeJS.ErrnoException) => e.code,
    );
    registry.addSocket(await accepted);
    expect([registry.socketCount, registry.listenerCount]).toEqual([1, 1]);
    registry.closeAll(resetSocket);
    expect(await ended).toBe('ECONNRESET');
    await waitUntil(() => registry.socketCount === 0, 'the reset socket closes');
    expect(registry.listenerCount).toBe(0);
    expect(server.listening).toBe(false);
  });
});
