/**
 * Handles to the forwards a session set up: a LocalPortForwarder listens here and opens a
 * `direct-tcpip` channel per connection (RFC 4254 §7.2, `ssh -L`); a RemotePortForwarder stands
 * for a `tcpip-forward` the peer accepted (§7.1, `ssh -R`); LocalSocketForwarder and
 * RemoteSocketForwarder are the Unix-socket counterparts (OpenSSH PROTOCOL §2.4). They only
 * remember what was agreed and how to undo it; the work is the service's.
 */
import type { Server } from 'node:net';
import { boundPort } from './tcp-endpoints.js';

/** Where a forward listens: a port, optionally with the address to bind. */
export interface ForwardEndpoint {
  /** Default "127.0.0.1". For a remote forward this is the RFC 4254 §7.1 address to bind ("" = all). */
  address?: string;
  /** 0 lets the listening side choose. */
  port: number;
}

/** A forward that stops once: by `close()`, or marked stopped when the session ends. */
export class ForwardHandle {
  readonly #stop: () => Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(stop: () => Promise<void>) {
    this.#stop = stop;
  }

  /** True once `close()` was called or the session ended. */
  get isClosed(): boolean {
    return this.#closed !== undefined;
  }

  /** Stops the forward; connections already forwarded carry on until they end. */
  close(): Promise<void> {
    this.#closed ??= this.#stop();
    return this.#closed;
  }

  /** Marks the forward gone (the session ended and stopped it). */
  markClosed(): void {
    this.#closed ??= Promise.resolve();
  }
}

/** A local listener whose connections are forwarded to `remoteHost:remotePort` through the session. */
export class LocalPortForwarder extends ForwardHandle {
  /** The local address listened on. */
  readonly localAddress: string;
  /** The local port listened on (the chosen one when 0 was asked for). */
  readonly localPort: number;
  /** Where the peer connects each forwarded connection to. */
  readonly remoteHost: string;
  readonly remotePort: number;

  constructor(options: { server: Server; localAddress: string; remoteHost: string; remotePort: number; stop: () => Promise<void> }) {
    super(options.stop);
    this.localAddress = options.localAddress;
    this.localPort = boundPort(options.server);
    this.remoteHost = options.remoteHost;
    this.remotePort = options.remotePort;
  }
}

/** A local SOCKS listener (`ssh -D`) whose connections reach the targets their clients name, through the session. */
export class DynamicPortForwarder extends ForwardHandle {
  /** The local address listened on. */
  readonly localAddress: string;
  /** The local port listened on (the chosen one when 0 was asked for). */
  readonly localPort: number;

  constructor(options: { server: Server; localAddress: string; stop: () => Promise<void> }) {
    super(options.stop);
    this.localAddress = options.localAddress;
    this.localPort = boundPort(options.server);
  }
}

/** A port the peer listens on for us (RFC 4254 §7.1); its connections reach `localHost:localPort`. */
export class RemotePortForwarder extends ForwardHandle {
  /** The address to bind we sent. */
  readonly remoteAddress: string;
  /** The port the peer listens on (the one it chose when 0 was asked for). */
  readonly remotePort: number;
  /** Where this side connects each forwarded connection to. */
  readonly localHost: string;
  readonly localPort: number;

  /** @param options `cancel` sends RFC 4254 §7.1 `cancel-tcpip-forward` */
  constructor(options: { remoteAddress: string; remotePort: number; localHost: string; localPort: number; cancel: () => Promise<void> }) {
    super(options.cancel);
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
    this.localHost = options.localHost;
    this.localPort = options.localPort;
  }
}

/** A local Unix-domain socket whose connections are forwarded to `remotePath` on the peer (`ssh -L path:path`). */
export class LocalSocketForwarder extends ForwardHandle {
  /** The socket path listened on here. */
  readonly localPath: string;
  /** The socket path the peer connects each forwarded connection to. */
  readonly remotePath: string;

  constructor(options: { localPath: string; remotePath: string; stop: () => Promise<void> }) {
    super(options.stop);
    this.localPath = options.localPath;
    this.remotePath = options.remotePath;
  }
}

/** A socket path the peer listens on for us (OpenSSH PROTOCOL §2.4); its connections reach `localPath`. */
export class RemoteSocketForwarder extends ForwardHandle {
  /** The socket path the peer listens on. */
  readonly remotePath: string;
  /** The socket path this side connects each forwarded connection to. */
  readonly localPath: string;

  constructor(options: { remotePath: string; localPath: string; cancel: () => Promise<void> }) {
    super(options.cancel);
    this.remotePath = options.remotePath;
    this.localPath = options.localPath;
  }
}

/**
 * Awaits `request` while it is listed in `pending`, so that a forwarded connection arriving before
 * the peer's reply can wait for it to settle (`Promise.allSettled(pending)`).
 */
export async function whilePending<T>(pending: Set<Promise<unknown>>, request: Promise<T>): Promise<T> {
  pending.add(request);
  try {
    return await request;
  } finally {
    pending.delete(request);
  }
}
