/**
 * What the "OpenSSH's ssh forwards through our server" specs share: our TcpServer with the port
 * forwarding service, password login user/secret, and the session hooks each spec installs; and
 * `ssh -N` processes started with forwarding flags, killed after each test.
 */
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import { TcpServer } from '../../lib/tcp/index.js';
import type { ServerSession } from '../../lib/server-session.js';
import { spawnSsh, type SshProcess } from '../helpers/openssh.js';
import { forwardingConfig } from '../forwarding/tcp-fixtures.js';

/** Our forwarding server on 127.0.0.1; `onSession` installs the spec's onRequest/onChannelOpening. */
export async function startForwardingServer(onSession: (session: ServerSession) => void): Promise<TcpServer> {
  const server = new TcpServer(forwardingConfig());
  server.credentials = { hostKeys: [await generateKeyPair('ssh-ed25519')] };
  server.onSessionAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
  server.onSessionError = () => {
    // A killed ssh ends its own session only.
  };
  server.onSessionOpened = onSession;
  await server.listen(0, '127.0.0.1');
  return server;
}

/** `ssh -N <flags>` against our server; `stop()` kills the last one started and waits for it. */
export class SshForwards {
  #ssh: SshProcess | undefined;
  readonly #port: () => number;

  constructor(port: () => number) {
    this.#port = port;
  }

  start(flags: string[]): SshProcess {
    this.#ssh = spawnSsh([], {
      port: this.#port(),
      user: 'user',
      password: 'secret',
      authentication: 'password',
      options: { ExitOnForwardFailure: 'yes' },
      flags: ['-N', ...flags],
    });
    return this.#ssh;
  }

  async stop(): Promise<void> {
    this.#ssh?.kill();
    await this.#ssh?.result;
    this.#ssh = undefined;
  }
}
