/** The ssh-streams client of the sshd rows (run in its own child process, see sshd-client.ts). */
import { readFileSync } from 'node:fs';
import { SessionConfig } from '../lib/config.js';
import { importKey } from '../lib/keys/index.js';
import { TcpClient } from '../lib/tcp/index.js';
import { addPortForwardingService, getPortForwardingService } from '../lib/forwarding/index.js';
import type { ClientSession } from '../lib/client-session.js';
import { payload } from './mailbox.js';
import { CHUNK, readFromPort, type SshdClient } from './sshd-client.js';

/** ssh-streams: TcpClient (its own socket adapter), one exec channel or forwardToRemotePort per transfer. */
export async function ourClient(clientKey: string, port: number, cipher: string): Promise<SshdClient> {
  const config = SessionConfig.default();
  config.encryptionAlgorithms = [cipher];
  addPortForwardingService(config);
  const client = new TcpClient(config);
  client.onSessionAuthenticating = () => true;
  const session: ClientSession = await client.openSession('127.0.0.1', port);
  if (!(await session.authenticate({ username: 'root', privateKeys: [await importKey(readFileSync(clientKey, 'utf8'))] }))) {
    throw new Error('sshd refused the benchmark key');
  }
  const block = payload(CHUNK);
  return {
    async transfer(direction, bytes, targets) {
      // The run moving nothing (see lessNothing in sshd.ts) forwards from the target that sends nothing.
      const target = bytes === 0 ? targets.empty : targets.full;
      const start = performance.now();
      if (direction === 'forward') {
        const forwarder = await getPortForwardingService(session).forwardToRemotePort(0, '127.0.0.1', target);
        await readFromPort(forwarder.localPort, bytes);
        await forwarder.close();
        return (performance.now() - start) / 1000;
      }
      const channel = await session.openChannel();
      if (!(await channel.exec(direction === 'download' ? `head -c ${bytes} /dev/zero` : 'cat >/dev/null'))) throw new Error('sshd refused exec');
      const reader = channel.readable.getReader();
      if (direction === 'download') {
        let received = 0;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          received += value.length;
        }
        if (received !== bytes) throw new Error(`Download ended after ${received} of ${bytes} bytes`);
      } else {
        const writer = channel.writable.getWriter();
        for (let sent = 0; sent < bytes; sent += CHUNK) {
          await writer.ready;
          void writer.write(block).catch(() => {});
        }
        await writer.close();
        while (!(await reader.read()).done);
      }
      await channel.close();
      return (performance.now() - start) / 1000;
    },
    close: () => session.close(),
  };
}

