/**
 * The soak's client side: ssh-streams sessions over TCP to a soak server, each with a `session`
 * channel on which `exec sink` was accepted (ssh2's server only reads a channel's data after an
 * exec), and writers that keep a channel busy until told to stop.
 */
import { createHash } from 'node:crypto';
import { TcpClient } from '../../lib/tcp/index.js';
import { SessionConfig } from '../../lib/config.js';
import { Algorithms } from '../../lib/algorithms.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import { soakCredentials } from './servers.js';

/** The client config of every soak: curve25519 (which ssh2 implements too), default ciphers. */
export function soakClientConfig(config = SessionConfig.default()): SessionConfig {
  config.keyExchangeAlgorithms = [Algorithms.kex.curve25519Sha256];
  return config;
}

/** Connects, authenticates and opens `channels` channels with `exec sink` accepted. */
export async function openSoakSession(
  port: number,
  hostKeyBlob: Uint8Array,
  channels = 1,
  config = soakClientConfig(),
): Promise<{ session: ClientSession; channels: Channel[] }> {
  const client = new TcpClient(config);
  client.onSessionAuthenticating = (e) => Buffer.from(e.publicKey.publicKeyBlob).equals(hostKeyBlob);
  const session = await client.openSession('127.0.0.1', port);
  if (!(await session.authenticate(soakCredentials))) throw new Error('Soak server refused the credentials');
  const opened: Channel[] = [];
  for (let i = 0; i < channels; i++) {
    const channel = await session.openChannel();
    if (!(await channel.exec('sink'))) throw new Error('Soak server refused exec');
    opened.push(channel);
  }
  return { session, channels: opened };
}

/** Deterministic chunk `index` of a stream identified by `seed` (incompressible enough, cheap). */
export function soakChunk(seed: number, index: number, size: number): Uint8Array {
  const chunk = new Uint8Array(size);
  const view = new DataView(chunk.buffer);
  let x = (seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0 || 1;
  for (let at = 0; at + 4 <= size; at += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(at, x >>> 0);
  }
  return chunk;
}

/** A writer that sends chunks until `stop()`, then EOF; hashes what it sent. */
export class SoakWriter {
  bytes = 0;
  readonly #hash = createHash('sha256');
  #stopped = false;
  readonly done: Promise<void>;

  constructor(writable: WritableStream<Uint8Array>, seed: number, chunkSize = 16 * 1024) {
    this.done = (async () => {
      const writer = writable.getWriter();
      for (let index = 0; !this.#stopped; index++) {
        const chunk = soakChunk(seed, index, chunkSize);
        this.#hash.update(chunk);
        this.bytes += chunk.length;
        await writer.write(chunk);
        // Like a socket or file source, give timers and I/O a turn now and then.
        if (index % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
      }
      await writer.close();
    })();
    // Awaited by whoever waits for the end; a failed session must not become an unhandled rejection meanwhile.
    this.done.catch(() => {});
  }

  stop(): void {
    this.#stopped = true;
  }

  /** SHA-256 of everything written, once `done`. */
  digest(): string {
    return this.#hash.digest('hex');
  }
}

/** Reads to EOF, hashing. */
export async function hashUntilEnd(readable: ReadableStream<Uint8Array>): Promise<{ hash: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { hash: hash.digest('hex'), bytes };
    hash.update(value);
    bytes += value.length;
  }
}
