/**
 * Free TCP ports on 127.0.0.1 for servers that must be told a port up front (sshd). The port is
 * free when returned but not reserved: callers that bind it later should retry on EADDRINUSE.
 */
import { createServer } from 'node:net';

/**
 * Asks the kernel for an unused 127.0.0.1 port, then releases it.
 * @returns the port number
 */
export async function getFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error(`Unexpected server address ${String(address)}`);
  return address.port;
}
