/**
 * Child process of one Node client of the sshd rows (bench/sshd.ts forks it through
 * bench/child-process.ts): `sshd-child.js <client> <clientKey> <port> <cipher>`. Connects, warms up
 * with 16 MiB each way (the one-process rows warm up too), then answers each transfer's seconds and
 * the CPU time this process spent on it (all its threads: the collector's helpers count).
 */
import { serveBenchChild } from './child-process.js';
import { nodeClients, type Direction, type Targets, type TimedTransfer } from './sshd-client.js';

const WARM_UP = 16 * 1024 * 1024;

serveBenchChild<{ direction: Direction; bytes: number; targets: Targets }>(async () => {
  const [name, clientKey, port, cipher] = process.argv.slice(2) as [keyof typeof nodeClients, string, string, string];
  const client = await nodeClients[name](clientKey, Number(port), cipher);
  const none = { full: 0, empty: 0 };
  await client.transfer('download', WARM_UP, none);
  await client.transfer('upload', WARM_UP, none);
  const handle = async (r: { direction: Direction; bytes: number; targets: Targets }): Promise<TimedTransfer> => {
    const cpu = process.cpuUsage();
    const seconds = await client.transfer(r.direction, r.bytes, r.targets);
    const { user, system } = process.cpuUsage(cpu);
    return { seconds, cpuMs: (user + system) / 1000 };
  };
  return { handle, close: () => client.close() };
});
