/**
 * `@microsoft/dev-tunnels-ssh` under benchmark: SshServerSession over node:net sockets (what its
 * SshServer does, minus a fixed port) and SshClient on 127.0.0.1, an ECDSA P-384 host key (it
 * has no ed25519), password authentication, its secure default configuration with the cipher
 * list cut to the one measured. Channels are driven through SshChannel.send / onDataReceived.
 */
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import * as dt from '@microsoft/dev-tunnels-ssh';
import * as dtTcp from '@microsoft/dev-tunnels-ssh-tcp';
import { Mailbox, payload } from '../mailbox.js';
import type { ChannelPair, Direction, Link, Peer, PeerServer } from '../types.js';

const credentials = { username: 'bench', password: 'bench' };
const aes256Gcm = 'aes256-gcm@openssh.com';

/** An SshChannel whose received data goes to whoever reads now; it must be drained from the start. */
class ReceivingChannel {
  readonly channel: dt.SshChannel;
  #sink: ((length: number) => void) | undefined;

  constructor(channel: dt.SshChannel) {
    this.channel = channel;
    channel.onDataReceived((data) => {
      this.#sink?.(data.length);
      channel.adjustWindow(data.length);
    });
  }

  read(bytes: number): Promise<void> {
    return new Promise((resolve) => {
      let received = 0;
      this.#sink = (length) => {
        received += length;
        if (received >= bytes) {
          this.#sink = undefined;
          resolve();
        }
      };
    });
  }

  async write(bytes: number, chunkSize: number): Promise<void> {
    const chunk = Buffer.from(payload(chunkSize));
    for (let sent = 0; sent < bytes; ) {
      const n = Math.min(chunkSize, bytes - sent);
      await this.channel.send(n === chunkSize ? chunk : chunk.subarray(0, n));
      sent += n;
    }
  }
}

class DevTunnelsPair implements ChannelPair {
  readonly #client: ReceivingChannel;
  readonly #server: ReceivingChannel;

  constructor(client: dt.SshChannel, server: ReceivingChannel) {
    this.#client = new ReceivingChannel(client);
    this.#server = server;
  }

  async transfer(direction: Direction, bytes: number, chunkSize: number): Promise<void> {
    const [from, to] = direction === 'client-to-server' ? [this.#client, this.#server] : [this.#server, this.#client];
    await Promise.all([from.write(bytes, chunkSize), to.read(bytes)]);
  }

  async close(): Promise<void> {
    await this.#client.channel.close();
  }
}

class DevTunnelsLink implements Link {
  readonly cipher = aes256Gcm;
  readonly kex: string;
  readonly #session: dt.SshClientSession;
  readonly #accepted: Mailbox<ReceivingChannel>;

  constructor(session: dt.SshClientSession, kex: string, accepted: Mailbox<ReceivingChannel>) {
    this.#session = session;
    this.kex = kex;
    this.#accepted = accepted;
  }

  async openChannel(): Promise<ChannelPair> {
    const [client, server] = await Promise.all([this.#session.openChannel(), this.#accepted.take()]);
    return new DevTunnelsPair(client, server);
  }

  async close(): Promise<void> {
    await this.#session.close(dt.SshDisconnectReason.byApplication);
    this.#session.dispose();
    this.#accepted.clear();
  }
}

function configuration(cipher: string): dt.SshSessionConfiguration {
  const config = new dt.SshSessionConfiguration(true);
  const keep = config.encryptionAlgorithms.filter((a) => a?.name === cipher);
  config.encryptionAlgorithms.splice(0, config.encryptionAlgorithms.length, ...keep);
  return config;
}

/** The `@microsoft/dev-tunnels-ssh` package (it implements aes256-gcm but not chacha20-poly1305). */
export const devTunnelsPeer: Peer = {
  name: 'dev-tunnels-ssh',
  ciphers: [aes256Gcm],
  async start(): Promise<PeerServer> {
    const hostKey = await dt.SshAlgorithms.publicKey.ecdsaSha2Nistp384!.generateKeyPair();
    const hostKeyBlob = (await hostKey.getPublicKeyBytes())!;
    const accepted = new Mailbox<ReceivingChannel>();
    const sessions = new Set<dt.SshServerSession>();
    const serverConfig = configuration(aes256Gcm);
    const server = createServer((socket: Socket) => {
      socket.setNoDelay(true);
      const session = new dt.SshServerSession(serverConfig);
      session.credentials = { publicKeys: [hostKey] };
      sessions.add(session);
      session.onClosed(() => sessions.delete(session));
      session.onAuthenticating((e) => {
        if (e.authenticationType === dt.SshAuthenticationType.clientPassword && e.username === credentials.username && e.password === credentials.password) {
          e.authenticationPromise = Promise.resolve({});
        }
      });
      session.onChannelOpening((e) => accepted.push(new ReceivingChannel(e.channel)));
      session.connect(new dt.NodeStream(socket)).catch(() => session.dispose());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    return {
      async connect(cipher) {
        const config = configuration(cipher);
        const client = new dtTcp.SshClient(config);
        const session = await client.openSession('127.0.0.1', port);
        session.onAuthenticating((e) => {
          if (e.authenticationType !== dt.SshAuthenticationType.serverPublicKey || !e.publicKey) return;
          e.authenticationPromise = e.publicKey.getPublicKeyBytes().then((blob) => (blob?.equals(hostKeyBlob) ? {} : null));
        });
        if (!(await session.authenticate(credentials))) throw new Error('dev-tunnels-ssh refused the benchmark credentials');
        const kex = config.keyExchangeAlgorithms.find((a) => a !== null)?.name ?? 'none';
        return new DevTunnelsLink(session, kex, accepted);
      },
      async close() {
        await Promise.all([...sessions].map((s) => s.close(dt.SshDisconnectReason.byApplication)));
        await new Promise((resolve) => server.close(resolve));
      },
    };
  },
};
