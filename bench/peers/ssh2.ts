/**
 * The `ssh2` npm package under benchmark (with its native crypto addon when built): its Server
 * and Client on 127.0.0.1, an ed25519 host key, password authentication. Channels are
 * direct-tcpip opens, ssh2's one way to get a bare channel without a channel request round trip.
 * Nagle is turned off on both ends, as the other peers do by default (ssh2 leaves it on).
 */
import ssh2 from 'ssh2';
import type { ClientChannel, ServerChannel } from 'ssh2';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Mailbox, payload } from '../mailbox.js';
import type { ChannelPair, Direction, Link, Peer, PeerServer } from '../types.js';

const credentials = { username: 'bench', password: 'bench' };
type Ssh2Stream = ClientChannel | ServerChannel;

class Ssh2Pair implements ChannelPair {
  readonly #client: ClientChannel;
  readonly #server: ServerChannel;

  constructor(client: ClientChannel, server: ServerChannel) {
    this.#client = client;
    this.#server = server;
  }

  async transfer(direction: Direction, bytes: number, chunkSize: number): Promise<void> {
    const [from, to]: Ssh2Stream[] = direction === 'client-to-server' ? [this.#client, this.#server] : [this.#server, this.#client];
    await Promise.all([write(from, bytes, chunkSize), read(to, bytes)]);
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}

async function write(stream: Ssh2Stream, bytes: number, chunkSize: number): Promise<void> {
  const chunk = Buffer.from(payload(chunkSize));
  for (let sent = 0; sent < bytes; ) {
    const n = Math.min(chunkSize, bytes - sent);
    sent += n;
    if (!stream.write(n === chunkSize ? chunk : chunk.subarray(0, n))) await once(stream, 'drain');
  }
}

function read(stream: Ssh2Stream, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const onData = (data: Buffer): void => {
      received += data.length;
      if (received >= bytes) done();
    };
    const onEnd = (): void => done(new Error(`Channel ended after ${received} of ${bytes} bytes`));
    const done = (error?: Error): void => {
      stream.off('data', onData).off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    stream.on('data', onData).on('end', onEnd);
  });
}

class Ssh2Link implements Link {
  readonly cipher: string;
  readonly kex: string;
  readonly #client: ssh2.Client;
  readonly #accepted: Mailbox<ServerChannel>;

  constructor(client: ssh2.Client, negotiated: ssh2.NegotiatedAlgorithms, accepted: Mailbox<ServerChannel>) {
    this.#client = client;
    this.#accepted = accepted;
    this.cipher = negotiated.cs.cipher === negotiated.sc.cipher ? negotiated.cs.cipher : 'mixed';
    this.kex = negotiated.kex;
  }

  async openChannel(): Promise<ChannelPair> {
    const open = new Promise<ClientChannel>((resolve, reject) =>
      this.#client.forwardOut('127.0.0.1', 0, '127.0.0.1', 0, (error, stream) => (error ? reject(error) : resolve(stream))),
    );
    const [client, server] = await Promise.all([open, this.#accepted.take()]);
    return new Ssh2Pair(client, server);
  }

  async close(): Promise<void> {
    const closed = once(this.#client, 'close');
    this.#client.end();
    await closed;
    this.#accepted.clear();
  }
}

/** The `ssh2` package. */
export const ssh2Peer: Peer = {
  name: 'ssh2',
  ciphers: ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
  async start(): Promise<PeerServer> {
    const keys = ssh2.utils.generateKeyPairSync('ed25519', {});
    const hostKeyBlob = (ssh2.utils.parseKey(keys.public) as ssh2.ParsedKey).getPublicSSH();
    const accepted = new Mailbox<ServerChannel>();
    const connections = new Set<ssh2.Connection>();
    const server = new ssh2.Server({ hostKeys: [keys.private] }, (connection) => {
      // Present at run time, missing from @types/ssh2.
      (connection as unknown as { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
      connections.add(connection);
      connection.on('close', () => connections.delete(connection));
      connection.on('error', () => {});
      connection.on('authentication', (ctx) => {
        if (ctx.method === 'password' && ctx.username === credentials.username && ctx.password === credentials.password) ctx.accept();
        else ctx.reject(['password']);
      });
      connection.on('ready', () => {
        connection.on('tcpip', (accept) => accepted.push(accept()));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    return {
      async connect(cipher) {
        const client = new ssh2.Client();
        const ready = once(client, 'ready');
        const handshake = once(client, 'handshake') as Promise<[ssh2.NegotiatedAlgorithms]>;
        client.connect({
          host: '127.0.0.1',
          port,
          ...credentials,
          algorithms: { cipher: [cipher as ssh2.CipherAlgorithm] },
          hostVerifier: (key: Buffer) => key.equals(hostKeyBlob),
        });
        client.setNoDelay(true);
        const [[negotiated]] = await Promise.all([handshake, ready]);
        return new Ssh2Link(client, negotiated, accepted);
      },
      async close() {
        for (const connection of connections) connection.end();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  },
};

/** True when ssh2 runs its native crypto addon (without it, its AES-GCM and chacha20 run in JavaScript). */
export function ssh2HasNativeAddon(): boolean {
  const crypto = createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean };
  return crypto.bindingAvailable === true;
}
