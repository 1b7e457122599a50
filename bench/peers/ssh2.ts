/**
 * The `ssh2` npm package under benchmark, twice: as installed (with its native OpenSSL addon when
 * built) and as a second copy loaded with the addon refused, so that its crypto runs on
 * node:crypto like ours. Server and Client on 127.0.0.1, an ed25519 host key, password
 * authentication. Channels are direct-tcpip opens, ssh2's one way to get a bare channel without a
 * channel request round trip. Nagle is off on both ends, as the other peers do by default.
 */
import ssh2 from 'ssh2';
import type { ClientChannel, ServerChannel } from 'ssh2';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
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

export type Ssh2Module = typeof ssh2;

/** One copy of the `ssh2` module as a benchmark peer. */
function ssh2PeerOf(name: string, lib: () => Ssh2Module): Peer {
  return {
    name,
    ciphers: ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
    start: (options = {}) => startSsh2(lib(), options.kex),
  };
}

async function startSsh2(lib: Ssh2Module, kex: string | undefined): Promise<PeerServer> {
  const keys = lib.utils.generateKeyPairSync('ed25519', {});
  const hostKeyBlob = (lib.utils.parseKey(keys.public) as ssh2.ParsedKey).getPublicSSH();
  const accepted = new Mailbox<ServerChannel>();
  const connections = new Set<ssh2.Connection>();
  const server = new lib.Server({ hostKeys: [keys.private] }, (connection) => {
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
      const client = new lib.Client();
      const ready = once(client, 'ready');
      const handshake = once(client, 'handshake') as Promise<[ssh2.NegotiatedAlgorithms]>;
      client.connect({
        host: '127.0.0.1',
        port,
        ...credentials,
        algorithms: { cipher: [cipher as ssh2.CipherAlgorithm], ...(kex !== undefined && { kex: [kex as ssh2.KexAlgorithm] }) },
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
}

/** The `ssh2` package as installed. */
export const ssh2Peer: Peer = ssh2PeerOf('ssh2', () => ssh2);

/**
 * A second, private copy of `ssh2` loaded while Node refuses native addons, so that it takes its
 * pure-JavaScript crypto path (node:crypto, and WebAssembly for Poly1305). The module cache is
 * put back afterwards: every other import keeps the installed copy.
 */
function loadSsh2WithoutAddon(): Ssh2Module {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('ssh2/package.json'));
  const cache = require.cache;
  const ours = (key: string): boolean => key.startsWith(root);
  const saved = Object.entries(cache).filter(([key]) => ours(key));
  for (const [key] of saved) delete cache[key];
  const loader = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
    if (request.endsWith('.node')) throw new Error(`Native addon ${request} refused for the no-addon benchmark`);
    return load.call(this, request, ...rest);
  };
  try {
    const copy = require('ssh2') as Ssh2Module;
    const crypto = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean };
    if (crypto.bindingAvailable) throw new Error('ssh2 copy still uses its native addon');
    return copy;
  } finally {
    loader._load = load;
    for (const key of Object.keys(cache)) if (ours(key)) delete cache[key];
    for (const [key, module] of saved) cache[key] = module;
  }
}

let withoutAddon: Ssh2Module | undefined;

/** The private copy of `ssh2` whose native addon was refused (loaded once). */
export function ssh2WithoutAddon(): Ssh2Module {
  return (withoutAddon ??= loadSsh2WithoutAddon());
}

/** `ssh2` with its native addon refused: the same crypto primitives as ssh-streams. */
export const ssh2NoAddonPeer: Peer = ssh2PeerOf('ssh2-no-addon', ssh2WithoutAddon);

/** True when ssh2 runs its native crypto addon (without it, its AES-GCM and chacha20 run in JavaScript). */
export function ssh2HasNativeAddon(): boolean {
  const crypto = createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean };
  return crypto.bindingAvailable === true;
}
