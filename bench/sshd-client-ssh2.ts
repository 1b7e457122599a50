/** The ssh2 clients of the sshd rows (run in their own child processes, see sshd-client.ts). */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import ssh2 from 'ssh2';
import type { Ssh2Module } from './peers/ssh2.js';
import { payload } from './mailbox.js';
import { CHUNK, closeServer, readFromPort, type SshdClient } from './sshd-client.js';

/** The installed ssh2, with its native addon where it built. */
export const installedSsh2: Ssh2Module = ssh2;

/** ssh2: exec streams, and a local listener piped to forwardOut (what `ssh -L` does). */
export async function ssh2Client(lib: Ssh2Module, clientKey: string, port: number, cipher: string): Promise<SshdClient> {
  const client = new lib.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host: '127.0.0.1', port, username: 'root', privateKey: readFileSync(clientKey), algorithms: { cipher: [cipher as ssh2.CipherAlgorithm] } });
  });
  const block = Buffer.from(payload(CHUNK));
  const exec = (command: string): Promise<ssh2.ClientChannel> =>
    new Promise((resolve, reject) => client.exec(command, (error, stream) => (error ? reject(error) : resolve(stream))));
  return {
    async transfer(direction, bytes, targets) {
      // The run moving nothing (see lessNothing in sshd.ts) forwards from the target that sends nothing.
      const target = bytes === 0 ? targets.empty : targets.full;
      const start = performance.now();
      if (direction === 'forward') {
        // What `ssh -L` does, built from forwardOut: a local listener whose connections are piped to direct-tcpip.
        const listener = createServer((socket) => {
          client.forwardOut('127.0.0.1', 0, '127.0.0.1', target, (error, stream) => {
            if (error) return void socket.destroy(error);
            socket.pipe(stream).pipe(socket);
            socket.once('close', () => stream.close());
          });
        });
        await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
        await readFromPort((listener.address() as { port: number }).port, bytes);
        await closeServer(listener);
        return (performance.now() - start) / 1000;
      }
      const stream = await exec(direction === 'download' ? `head -c ${bytes} /dev/zero` : 'cat >/dev/null');
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      if (direction === 'download') {
        let received = 0;
        stream.on('data', (chunk: Buffer) => (received += chunk.length));
        await closed;
        if (received !== bytes) throw new Error(`Download ended after ${received} of ${bytes} bytes`);
      } else {
        stream.resume();
        for (let sent = 0; sent < bytes; sent += CHUNK) {
          if (!stream.write(block)) await new Promise((resolve) => stream.once('drain', resolve));
        }
        stream.end();
        await closed;
      }
      return (performance.now() - start) / 1000;
    },
    close: async () => void client.end(),
  };
}


