/**
 * Handles to the forwards a session set up: a LocalPortForwarder listens here and opens a
 * `direct-tcpip` channel per connection (RFC 4254 §7.2, `ssh -L`); a RemotePortForwarder stands
 * for a `tcpip-forward` the peer accepted (§7.1, `ssh -R`). Both only remember what was agreed and
 * how to undo it; the work is the service's.
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

/** A local listener whose connections are forwarded to `remoteHost:remotePort` through the session. */
export class LocalPortForwarder {
  /** The local address listened on. */
  readonly localAddress: string;
  /** The local port listened on (the chosen one when 0 was asked for). */
  readonly localPort: number;
  /** Where the peer connects each forwarded connection to. */
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly #stop: () => Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(options: { server: Server; localAddress: string; remoteHost: string; remotePort: number; stop: () => Promise<void> }) {
    this.localAddress = options.localAddress;
    this.localPort = boundPort(options.server);
    this.remoteHost = options.remoteHost;
    this.remotePort = options.remotePort;
    this.#stop = options.stop;
  }

  /** True once `close()` was called or the session ended. */
  get isClosed(): boolean {
    return this.#closed !== undefined;
  }

  /** Stops listening; connections already forwarded carry on until they end. */
  close(): Promise<void> {
    this.#closed ??= this.#stop();
    return this.#closed;
  }

  /** Marks the listener gone (the session ended and closed it). */
  markClosed(): void {
    this.#closed ??= Promise.resolve();
  }
}

/** A port the peer listens on for us (RFC 4254 §7.1); its connections reach `localHost:localPort`. */
export class RemotePortForwarder {
  /** The address to bind we sent. */
  readonly remoteAddress: string;
  /** The port the peer listens on (the one it chose when 0 was asked for). */
  readonly remotePort: number;
  /** Where this side connects each forwarded connection to. */
  readonly localHost: string;
  readonly localPort: number;
  readonly #cancel: () => Promise<void>;
  #closed: Promise<void> | undefined;

  constructor(options: { remoteAddress: string; remotePort: number; localHost: string; localPort: number; cancel: () => Promise<void> }) {
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
    this.localHost = options.localHost;
    this.localPort = options.localPort;
    this.#cancel = options.cancel;
  }

  /** True once `close()` was called or the session ended. */
  get isClosed(): boolean {
    return this.#closed !== undefined;
  }

  /** RFC 4254 §7.1: sends `cancel-tcpip-forward`; connections already forwarded carry on. */
  close(): Promise<void> {
    this.#closed ??= this.#cancel();
    return this.#closed;
  }

  /** Marks the forward gone without telling the peer (the session ended). */
  markClosed(): void {
    this.#closed ??= Promise.resolve();
  }
}
