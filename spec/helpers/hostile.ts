/**
 * Hostile-peer harness: a real TcpServer on 127.0.0.1 serving exec channels, a client that does a
 * real key exchange and password authentication through the library's own Transport and codec
 * and then sends whatever raw messages a spec chooses (recording every reply, UNIMPLEMENTED
 * included), and a well-behaved bystander session on the same server whose data must come
 * through unharmed. The hostile client can stop reading its socket to play a peer that never reads.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { SessionConfig } from '../../lib/config.js';
import { encode } from '../../lib/codec/schema.js';
import { ServiceRequest } from '../../lib/codec/messages/transport.js';
import { UserauthRequest, connectionServiceName, userauthServiceName } from '../../lib/codec/messages/userauth.js';
import { encodePasswordFields } from '../../lib/auth/password.js';
import { Transport, type SessionCloseInfo } from '../../lib/transport/transport.js';
import { TcpServer } from '../../lib/tcp/tcp-server.js';
import { TcpClient } from '../../lib/tcp/tcp-client.js';
import { socketToDuplex } from '../../lib/tcp/socket-duplex.js';
import { ServerSession } from '../../lib/server-session.js';
import { ClientSession as Client } from '../../lib/client-session.js';
import type { ClientSession } from '../../lib/client-session.js';
import type { Channel } from '../../lib/mux/channel.js';
import { serveExec } from '../../lib/session/exec.js';
import { testHostKey } from './pairs.js';
import { duplexPair, readAll, type ByteDuplex } from './pipes.js';

/** A test server and what it saw: every session and how each ended. */
export interface HostileTestServer {
  server: TcpServer;
  port: number;
  sessions: ServerSession[];
  /** How each session ended (in the order of `sessions`), once it has. */
  ends: Promise<SessionCloseInfo>[];
  /**
   * A session of the same server over an in-memory link whose queues hold `highWaterMark` bytes
   * each way (a socket's kernel buffers would take megabytes of a flood before pushing back).
   */
  connectInMemory(highWaterMark?: number): ByteDuplex;
  close(): Promise<void>;
}

/** How the test server serves each channel (exec by default). */
export type ChannelServer = (channel: Channel) => void;

/** A TcpServer on 127.0.0.1 accepting `user`/`secret` and serving exec (or `serve`) on every channel. */
export async function hostileTestServer(config: SessionConfig = SessionConfig.default(), serve: ChannelServer = serveExec): Promise<HostileTestServer> {
  const server = new TcpServer(config);
  server.credentials = { hostKeys: [await testHostKey()] };
  server.onSessionAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
  const sessions: ServerSession[] = [];
  const ends: Promise<SessionCloseInfo>[] = [];
  const adopt = (session: ServerSession): void => {
    sessions.push(session);
    ends.push(session.closed.catch((error) => ({ reason: error.reason ?? -1, description: String(error.message), error, initiatedBy: 'local' as const })));
    void (async () => {
      for await (const channel of session.channels) serve(channel);
    })();
  };
  server.onSessionOpened = adopt;
  await server.listen(0, '127.0.0.1');
  const connectInMemory = (highWaterMark = 16 * 1024): ByteDuplex => {
    const [near, far] = duplexPair({ highWaterMark });
    const session = new ServerSession(config, { hostKeys: server.credentials.hostKeys });
    session.onAuthenticating = server.onSessionAuthenticating;
    adopt(session);
    void session.connect(far).catch(() => {});
    return near;
  };
  const close = async (): Promise<void> => {
    await Promise.all(sessions.map((s) => s.close()));
    await server.close();
  };
  return { server, port: server.port!, sessions, ends, connectInMemory, close };
}

/** Reads through to the socket's duplex unless paused (a peer that stops reading). */
export function pausable(readable: ReadableStream<Uint8Array>): { readable: ReadableStream<Uint8Array>; pause(): void; resume(): void } {
  const reader = readable.getReader();
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  return {
    readable: new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (gate) await gate.promise;
          const { value, done } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    ),
    pause() {
      if (gate) return;
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    resume() {
      const g = gate;
      gate = undefined;
      g?.open();
    },
  };
}

/** An authenticated client that sends raw messages and records every reply. */
export class HostileClient {
  readonly transport: Transport;
  /** Every message the upper layers would have seen, in arrival order. */
  readonly received: Uint8Array[] = [];
  /** How many messages of each number arrived. */
  readonly counts = new Map<number, number>();
  /** Sequence numbers the server answered with UNIMPLEMENTED. */
  readonly unimplemented: number[] = [];
  /** How the transport ended (never rejects). */
  readonly ended: Promise<SessionCloseInfo>;
  /** The version exchange and first key exchange. */
  readonly connected: Promise<void>;
  readonly #link: ReturnType<typeof pausable>;
  /** Messages before this index were returned by `next`. */
  #cursor = 0;
  #wake: (() => void) | undefined;

  /** Use `HostileClient.connect` or `HostileClient.over`. */
  constructor(link: ByteDuplex, config: SessionConfig) {
    const duplex = link;
    this.#link = pausable(duplex.readable);
    this.transport = new Transport({ isServer: false, config });
    this.transport.onMessage = (payload) => {
      this.received.push(payload);
      this.counts.set(payload[0]!, (this.counts.get(payload[0]!) ?? 0) + 1);
      this.#notify();
      return true;
    };
    this.transport.onUnimplemented = (sequence) => {
      this.unimplemented.push(sequence);
      this.#notify();
    };
    this.ended = this.transport.closed.catch((error) => ({ reason: error.reason ?? -1, description: String(error.message), error, initiatedBy: 'remote' as const }));
    void this.ended.then(() => this.#notify());
    this.connected = this.transport.connect({ readable: this.#link.readable, writable: duplex.writable });
    this.connected.catch(() => {});
  }

  /** Connects to the test server, runs the key exchange and authenticates as `user`/`secret`. */
  static async connect(port: number, config: SessionConfig = SessionConfig.default()): Promise<HostileClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    return HostileClient.over(socketToDuplex(socket), config);
  }

  /** Runs the key exchange and authenticates as `user`/`secret` over any byte stream. */
  static async over(link: ByteDuplex, config: SessionConfig = SessionConfig.default()): Promise<HostileClient> {
    const client = await HostileClient.unauthenticated(link, config);
    const methodFields = encodePasswordFields({ password: 'secret' });
    await client.send(encode(UserauthRequest, { userName: 'user', serviceName: connectionServiceName, methodName: 'password', methodFields }));
    await client.next(52, 'USERAUTH_SUCCESS');
    return client;
  }

  /** Runs the key exchange and has the `ssh-userauth` service accepted; authenticating is the caller's. */
  static async unauthenticated(link: ByteDuplex, config: SessionConfig = SessionConfig.default()): Promise<HostileClient> {
    const client = new HostileClient(link, config);
    await client.connected;
    await client.send(encode(ServiceRequest, { serviceName: userauthServiceName }));
    await client.next(6, 'SERVICE_ACCEPT');
    return client;
  }

  /** Sends one raw message payload (type byte first) through the real transport. */
  send(payload: Uint8Array): Promise<void> {
    return this.transport.send(payload);
  }

  /** Stops reading the socket: the server's replies pile up in TCP, then at the server. */
  stopReading(): void {
    this.#link.pause();
  }

  resumeReading(): void {
    this.#link.resume();
  }

  /** Resolves once `condition()` holds (checked on every reply and at the end); rejects if the link ends first. */
  async waitFor(condition: () => boolean, what: string): Promise<void> {
    while (!condition()) {
      if (this.transport.isClosed) {
        const info = await this.ended;
        throw new Error(`Link ended (reason ${info.reason}: ${info.description}) while waiting for ${what}`);
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** The first message of `type` received from `from` on (default: after the last one returned). */
  async next(type: number, what = `message ${type}`): Promise<Uint8Array> {
    let found: Uint8Array | undefined;
    await this.waitFor(() => {
      const i = this.received.findIndex((p, index) => index >= this.#cursor && p[0] === type);
      if (i < 0) return false;
      found = this.received[i];
      this.#cursor = i + 1;
      return true;
    }, what);
    return found!;
  }

  /** Waits for the server's DISCONNECT (or the end of the link) and returns how it ended. */
  async disconnected(): Promise<SessionCloseInfo> {
    return this.ended;
  }

  close(): void {
    void this.transport.close();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** A well-behaved session on the same server: authenticates and round-trips data through `cat`. */
export class Bystander {
  readonly session: ClientSession;

  constructor(session: ClientSession) {
    this.session = session;
  }

  static async connect(port: number): Promise<Bystander> {
    const tcp = new TcpClient(SessionConfig.default());
    const hostKey = await testHostKey();
    tcp.onSessionAuthenticating = (e) => e.publicKey.equals(hostKey);
    const session = await tcp.openSession('127.0.0.1', port);
    if (!(await session.authenticate({ username: 'user', password: 'secret' }))) throw new Error('Bystander failed to authenticate');
    return new Bystander(session);
  }

  /** Sends `bytes` through `cat` on a new channel; resolves true when the echo hashes the same. */
  async roundTrip(bytes = 1 << 20): Promise<boolean> {
    const channel = await this.session.openChannel();
    if (!(await channel.exec('cat'))) return false;
    const payload = new Uint8Array(bytes).map((_, i) => (i * 31 + 7) & 0xff);
    const echoed = readAll(channel.readable);
    const writer = channel.writable.getWriter();
    await writer.write(payload);
    await writer.close();
    const hash = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const same = hash(await echoed) === hash(payload);
    await channel.closed;
    return same;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/** A hostile server, a bystander and a hostile client: what each hostile spec starts from. */
export interface HostileSetup {
  server: HostileTestServer;
  bystander: Bystander;
  hostile: HostileClient;
}

/**
 * Per-test set-up and tear-down of a {@link HostileSetup}: the hostile client over TCP, or over
 * an in-memory link with small queues (`memory`) so a flood pushes back after kilobytes.
 */
export function hostileFixture(config: () => SessionConfig, link: 'tcp' | 'memory' = 'tcp', serve?: ChannelServer) {
  let current: HostileSetup | undefined;
  return {
    async setUp(): Promise<HostileSetup> {
      const server = await hostileTestServer(config(), serve);
      const bystander = await Bystander.connect(server.port);
      const hostile = link === 'tcp' ? await HostileClient.connect(server.port) : await HostileClient.over(server.connectInMemory());
      current = { server, bystander, hostile };
      return current;
    },
    async tearDown(): Promise<void> {
      const o = current;
      current = undefined;
      if (!o) return;
      o.hostile.close();
      await o.bystander.close();
      await o.server.close();
    },
  };
}

/**
 * A hostile server against our client: a real ServerSession (serving exec on every channel, so a
 * channel of the same session can prove it is intact) whose raw sends come from the spec, over
 * an in-memory link with small queues. The server can stop reading, and records the sequence
 * numbers our client answers with UNIMPLEMENTED.
 */
export interface HostileServerPair {
  client: Client;
  server: ServerSession;
  /** Sends a raw message payload from the server, in order with everything else. */
  send(payload: Uint8Array): Promise<void>;
  /** Sequence numbers (of the server's packets) our client answered with UNIMPLEMENTED. */
  unimplemented: number[];
  /** How each side ended (never rejects). */
  clientEnded: Promise<SessionCloseInfo>;
  serverEnded: Promise<SessionCloseInfo>;
  stopReading(): void;
  resumeReading(): void;
  /** Round-trips `bytes` through `cat` on a new channel of the same session; true when the echo hashes the same. */
  roundTrip(bytes?: number): Promise<boolean>;
  close(): Promise<void>;
}

function ending(closed: Promise<SessionCloseInfo>, initiatedBy: 'local' | 'remote'): Promise<SessionCloseInfo> {
  return closed.catch((error) => ({ reason: error.reason ?? -1, description: String(error.message), error, initiatedBy }));
}

/** Connects and authenticates our client to a server the spec drives raw (see {@link HostileServerPair}). */
export async function hostileServerPair(options: { clientConfig?: SessionConfig; serverConfig?: SessionConfig; highWaterMark?: number } = {}): Promise<HostileServerPair> {
  const [near, far] = duplexPair({ highWaterMark: options.highWaterMark ?? 16 * 1024 });
  const link = pausable(far.readable);
  const hostKey = await testHostKey();
  const client = new Client(options.clientConfig ?? SessionConfig.default());
  client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
  const server = new ServerSession(options.serverConfig ?? SessionConfig.default(), { hostKeys: [hostKey] });
  server.onAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
  const unimplemented: number[] = [];
  // The server's transport is protected: the spec reads the UNIMPLEMENTED replies it sees.
  (server as unknown as { transport: Transport }).transport.onUnimplemented = (sequence) => unimplemented.push(sequence);
  void (async () => {
    for await (const channel of server.channels) serveExec(channel);
  })();
  await Promise.all([client.connect(near), server.connect({ readable: link.readable, writable: far.writable })]);
  if (!(await client.authenticate({ username: 'user', password: 'secret' }))) throw new Error('Hostile server pair failed to authenticate');
  const roundTrip = (bytes = 1 << 20): Promise<boolean> => new Bystander(client).roundTrip(bytes);
  return {
    client,
    server,
    send: (payload) => server.sendMessage(payload),
    unimplemented,
    clientEnded: ending(client.closed, 'local'),
    serverEnded: ending(server.closed, 'remote'),
    stopReading: () => link.pause(),
    resumeReading: () => link.resume(),
    roundTrip,
    async close() {
      link.resume();
      await Promise.all([client.close(), server.close()]);
    },
  };
}
