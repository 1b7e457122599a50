/**
 * Child process of one Node client of the sshd rows (bench/sshd.ts forks it):
 * `sshd-child.js <client> <clientKey> <port> <cipher>`. Connects, warms up with 16 MiB each way
 * (the one-process rows warm up too), answers `{ seconds: 0 }`, then runs each transfer the parent
 * sends and answers its seconds, or `{ error }`; `{ close: true }` ends it.
 */
import { nodeClients, type Direction, type Targets } from './sshd-client.js';

/** A request from the parent. */
type ChildRequest = { direction: Direction; bytes: number; targets: Targets } | { close: true };
/** The answer to the connect and to each transfer. */
export type ChildReply = { seconds: number } | { error: string };

const WARM_UP = 16 * 1024 * 1024;

async function main(): Promise<void> {
  const [name, clientKey, port, cipher] = process.argv.slice(2) as [keyof typeof nodeClients, string, string, string];
  const send = (reply: ChildReply): void => void process.send!(reply);
  const client = await nodeClients[name](clientKey, Number(port), cipher);
  const none = { full: 0, empty: 0 };
  await client.transfer('download', WARM_UP, none);
  await client.transfer('upload', WARM_UP, none);
  send({ seconds: 0 });
  process.on('message', (request: ChildRequest) => {
    if ('close' in request) {
      void client.close().finally(() => process.exit(0));
      return;
    }
    client.transfer(request.direction, request.bytes, request.targets).then(
      (seconds) => send({ seconds }),
      (error: unknown) => send({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
