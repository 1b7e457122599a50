/**
 * Dynamic forwarding (`ssh -D`) through a real sshd: `curl` with --socks5-hostname, --socks5,
 * --socks4a and --socks4 through our forwardDynamic listener reaches a local HTTP server; a
 * target nobody listens on gets a SOCKS failure reply; SOCKS garbage closes only that connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { importKey } from '../../lib/keys/index.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';
import type { ClientSession } from '../../lib/client-session.js';
import { getPortForwardingService, type DynamicPortForwarder } from '../../lib/forwarding/index.js';
import { ensureTestUser, hostPublicKey, skipWithoutOpenSsh, startSshd, type Sshd } from '../helpers/openssh.js';
import { getFreePort } from '../helpers/free-port.js';
import { connectClient } from './interop-sessions.js';
import { forwardingConfig } from '../forwarding/tcp-fixtures.js';

const skip = skipWithoutOpenSsh();
const execFileAsync = promisify(execFile);

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(skip)('forwardDynamic through sshd', () => {
  let sshd: Sshd;
  let hostKey: KeyPair;
  let http: Server;
  let httpPort: number;
  let client: ClientSession;
  let socks: DynamicPortForwarder;

  beforeAll(async () => {
    const user = ensureTestUser();
    sshd = await startSshd({ hostKeyTypes: ['ssh-ed25519'] });
    hostKey = await importKey(hostPublicKey(sshd, 'ssh-ed25519'));
    http = createServer((req, res) => res.end(`hello from ${req.url} via ${req.headers.host}`));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as { port: number }).port;
    client = await connectClient(sshd.port, [hostKey], forwardingConfig());
    if (!(await client.authenticate({ username: user.username, password: user.password }))) throw new Error('Login to sshd failed');
    socks = await getPortForwardingService(client).forwardDynamic(0, '127.0.0.1');
  });
  afterAll(async () => {
    await socks?.close();
    await client?.close();
    http?.close();
    await sshd?.stop();
  });

  for (const [flag, host] of [
    ['--socks5-hostname', 'localhost'],
    ['--socks5', '127.0.0.1'],
    ['--socks4a', 'localhost'],
    ['--socks4', '127.0.0.1'],
  ] as const) {
    it(`serves curl ${flag}`, async () => {
      const result = await curl([flag, `127.0.0.1:${socks.localPort}`, `http://${host}:${httpPort}/${flag.slice(2)}`]);
      expect(result.stdout, result.stderr).toBe(`hello from /${flag.slice(2)} via ${host}:${httpPort}`);
    });
  }

  it('answers a target nobody listens on with a SOCKS failure', async () => {
    const closed = await getFreePort();
    const five = await curl(['--socks5-hostname', `127.0.0.1:${socks.localPort}`, `http://localhost:${closed}/`]);
    expect(five.code).toBe(97);
    expect(five.stderr).toMatch(/connection refused|Connection refused|SOCKS5/i);
    const four = await curl(['--socks4a', `127.0.0.1:${socks.localPort}`, `http://localhost:${closed}/`]);
    expect(four.code).toBe(97);
  });

  it('closes a connection that sends garbage, and keeps serving others', async () => {
    const socket = connect(socks.localPort, '127.0.0.1');
    const reply = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.on('error', () => {});
      socket.write(Buffer.from([5, 1, 0, 5, 9, 0, 1, 1, 2, 3, 4, 0, 80]));
    });
    expect([...reply]).toEqual([5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);
    const result = await curl(['--socks5-hostname', `127.0.0.1:${socks.localPort}`, `http://localhost:${httpPort}/after`]);
    expect(result.stdout).toBe(`hello from /after via localhost:${httpPort}`);
  });
});
