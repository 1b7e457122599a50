import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { TcpClient } from '../../lib/tcp/index.js';
import { SessionConfig } from '../../lib/config.js';
import { hashStream } from '../interop/interop-sessions.js';
import { logText } from '../helpers/compressible.js';
import { testHostKey } from '../helpers/pairs.js';
import { disconnected, reconnectServer, socketClient } from './reconnect-fixtures.js';

const MiB = 1024 * 1024;

function zlibWithReconnect(): SessionConfig {
  const config = SessionConfig.defaultWithReconnect();
  config.compressionAlgorithms = ['zlib@openssh.com', 'none'];
  return config;
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 64 * 1024));
      offset += 64 * 1024;
    },
  });
}

describe('session reconnection with delayed compression', () => {
  it('compresses on the new connection once the reconnect succeeded: 4 MiB of text each way, hashes equal, a fraction of the bytes on the wire', async () => {
    const hostKey = await testHostKey();
    const { server, port, sessions, channels } = await reconnectServer(hostKey, zlibWithReconnect());
    const { client, socket } = await socketClient(port, hostKey, zlibWithReconnect());
    const serverSession = await sessions.take();
    expect(client.algorithms?.compressionClientToServer).toBe('zlib@openssh.com');
    const channel = await client.openChannel();
    const serverChannel = await channels.take();

    const lost = Promise.all([disconnected(client), disconnected(serverSession)]);
    socket.destroy();
    await lost;
    await new TcpClient().reconnectSession(client, '127.0.0.1', port);
    expect(client.algorithms?.compressionServerToClient).toBe('zlib@openssh.com');

    const text = logText(4 * MiB);
    const expected = createHash('sha256').update(text).digest('hex');
    const before = client.metrics;
    const sent = [streamOf(text).pipeTo(channel.writable), streamOf(text).pipeTo(serverChannel.writable)];
    const [serverGot, clientGot] = await Promise.all([hashStream(serverChannel.readable), hashStream(channel.readable), ...sent]);
    expect(serverGot).toEqual({ hash: expected, bytes: 4 * MiB });
    expect(clientGot).toEqual({ hash: expected, bytes: 4 * MiB });
    const after = client.metrics;
    const upOnWire = after.bytesSent - before.bytesSent;
    const downOnWire = after.bytesReceived - before.bytesReceived;
    expect(upOnWire).toBeLessThan(text.length / 3);
    expect(downOnWire).toBeLessThan(text.length / 3);
    expect(client.metrics.reconnections).toBe(1);
    await client.close();
    await server.close();
  }, 30000);
});
