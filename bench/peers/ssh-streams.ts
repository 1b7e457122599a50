/**
 * ssh-streams under benchmark: TcpServer and TcpClient on 127.0.0.1, an ed25519 host key,
 * password authentication, default algorithms except the cipher the client asks for. Channels
 * are driven through their Web Streams, the way applications use them.
 */
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import { TcpClient, TcpServer } from '../../lib/tcp/index.js';
import type { Channel } from '../../lib/mux/channel.js';
import type { ClientSession } from '../../lib/client-session.js';
import { Mailbox, payload } from '../mailbox.js';
import type { ChannelPair, Direction, Link, Peer, PeerServer } from '../types.js';

const credentials = { username: 'bench', password: 'bench' };

/** Web Streams ends of one channel, with the writer and reader kept across transfers. */
class StreamsPair implements ChannelPair {
  readonly #ends: Record<'client' | 'server', Channel>;
  readonly #writers = new Map<Channel, WritableStreamDefaultWriter<Uint8Array>>();
  readonly #readers = new Map<Channel, ReadableStreamDefaultReader<Uint8Array>>();

  constructor(client: Channel, server: Channel) {
    this.#ends = { client, server };
  }

  async transfer(direction: Direction, bytes: number, chunkSize: number): Promise<void> {
    const [from, to] = direction === 'client-to-server' ? [this.#ends.client, this.#ends.server] : [this.#ends.server, this.#ends.client];
    await Promise.all([this.#write(from, bytes, chunkSize), this.#read(to, bytes)]);
  }

  async close(): Promise<void> {
    await this.#ends.client.close();
  }

  async #write(channel: Channel, bytes: number, chunkSize: number): Promise<void> {
    let writer = this.#writers.get(channel);
    if (!writer) this.#writers.set(channel, (writer = channel.writable.getWriter()));
    const chunk = payload(chunkSize);
    let failure: unknown;
    for (let sent = 0; sent < bytes && failure === undefined; ) {
      const n = Math.min(chunkSize, bytes - sent);
      await writer.ready;
      writer.write(n === chunkSize ? chunk : chunk.subarray(0, n)).catch((e) => (failure ??= e));
      sent += n;
    }
    await writer.ready;
    if (failure !== undefined) throw failure;
  }

  async #read(channel: Channel, bytes: number): Promise<void> {
    let reader = this.#readers.get(channel);
    if (!reader) this.#readers.set(channel, (reader = channel.readable.getReader()));
    for (let received = 0; received < bytes; ) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Channel ended after ${received} of ${bytes} bytes`);
      received += value.length;
    }
  }
}

class StreamsLink implements Link {
  readonly cipher: string;
  readonly kex: string;
  readonly #session: ClientSession;
  readonly #accepted: Mailbox<Channel>;

  constructor(session: ClientSession, accepted: Mailbox<Channel>) {
    this.#session = session;
    this.#accepted = accepted;
    const algorithms = session.algorithms!;
    this.cipher = algorithms.encryptionClientToServer === algorithms.encryptionServerToClient ? algorithms.encryptionClientToServer : 'mixed';
    this.kex = algorithms.kex;
  }

  async openChannel(): Promise<ChannelPair> {
    const [client, server] = await Promise.all([this.#session.openChannel(), this.#accepted.take()]);
    return new StreamsPair(client, server);
  }

  async close(): Promise<void> {
    await this.#session.close();
    this.#accepted.clear();
  }
}

/** The library of this repository. */
export const sshStreamsPeer: Peer = {
  name: 'ssh-streams',
  ciphers: ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'none'],
  async start(options = {}): Promise<PeerServer> {
    const hostKey = await generateKeyPair('ssh-ed25519');
    const accepted = new Mailbox<Channel>();
    const serverConfig = SessionConfig.default();
    serverConfig.encryptionAlgorithms = [...serverConfig.encryptionAlgorithms, 'none'];
    serverConfig.hmacAlgorithms = [...serverConfig.hmacAlgorithms, 'none'];
    const server = new TcpServer(serverConfig);
    server.credentials = { hostKeys: [hostKey] };
    server.onSessionAuthenticating = (e) => e.username === credentials.username && e.password === credentials.password;
    server.onSessionOpened = (session) => {
      void (async () => {
        for await (const channel of session.channels) accepted.push(channel);
      })();
    };
    await server.listen(0, '127.0.0.1');
    const port = server.port!;
    return {
      async connect(cipher) {
        const config = SessionConfig.default();
        config.encryptionAlgorithms = [cipher];
        if (options.kex !== undefined) config.keyExchangeAlgorithms = [options.kex];
        // Cipher `none` is for measuring the rest of the pipeline: no MAC either.
        if (cipher === 'none') config.hmacAlgorithms = ['none'];
        const client = new TcpClient(config);
        client.onSessionAuthenticating = (e) => e.publicKey.equals(hostKey);
        const session = await client.openSession('127.0.0.1', port);
        if (!(await session.authenticate(credentials))) throw new Error('ssh-streams refused the benchmark credentials');
        return new StreamsLink(session, accepted);
      },
      close: () => server.close(),
    };
  },
};
