/**
 * Where forwarding gets its sockets from: node:net, installed by the Node platform file. A browser
 * build has none: forwarding over channels (`streamToRemotePort`) still works there, while
 * listening on or connecting to local ports and socket paths fails with a clear SshError.
 */
import type * as NetModule from 'node:net';
import { SshError } from '../errors.js';

/** The node:net functions forwarding uses. */
export type NetBackend = Pick<typeof NetModule, 'connect' | 'createServer'>;

let backend: NetBackend | undefined;

/**
 * Installs the socket backend of forwarding; called once by the Node platform file.
 * @param net node:net, or a runtime's compatible module
 */
export function installNet(net: NetBackend): void {
  backend = net;
}

/**
 * The installed socket backend.
 * @throws SshError in runtimes without node:net (the browser build)
 */
export function net(): NetBackend {
  if (!backend) {
    throw new SshError('Forwarding to or from local ports and socket paths needs node:net, which this runtime does not have (browser build)');
  }
  return backend;
}
