/**
 * The `ssh-streams/tcp` entry for browsers: TCP needs node:net, which a page does not have. The
 * same names are exported so that code shared with Node imports cleanly; using any of them throws
 * an SshError that points at `webSocketToDuplex`. Importing this module has no effect.
 */
import { SshError } from '../errors.js';

function unavailable(what: string): SshError {
  return new SshError(
    `${what} needs node:net, which this runtime does not have (browser build): connect sessions with webSocketToDuplex(new WebSocket(url)) instead`,
  );
}

/** Browser stand-in of the Node `TcpClient`: constructing it throws. */
export class TcpClient {
  /** @throws SshError always: there is no TCP in a browser */
  constructor() {
    throw unavailable('TcpClient');
  }
}

/** Browser stand-in of the Node `TcpServer`: constructing it throws. */
export class TcpServer {
  /** @throws SshError always: there is no TCP in a browser */
  constructor() {
    throw unavailable('TcpServer');
  }
}

/**
 * Browser stand-in of the Node `socketToDuplex`.
 * @throws SshError always: there is no TCP in a browser
 */
export function socketToDuplex(): never {
  throw unavailable('socketToDuplex');
}

// Pure logic with no node:net behind it: the same limiter serves servers built on ServerSession.
export { StartupLimiter, defaultMaxStartups } from './startup-limits.js';
