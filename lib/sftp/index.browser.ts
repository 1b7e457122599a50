/**
 * The `ssh-streams/sftp` entry for browsers (the `browser` export condition): installs the
 * portable backend, then the SFTP client. The server side serves a directory through node:fs,
 * which a page does not have: `serveSftp` and `runSftpServer` are stand-ins that throw an
 * SshError when called. Nothing reachable from here imports a `node:` module.
 */
import '../platform/web.js';
import { SshError } from '../errors.js';
export { SftpClient, SftpFile } from './client.js';
export type { SftpClientOptions, SftpLimits } from './client.js';
export { SftpAttributes } from './attributes.js';
export type { SftpAttributesInit } from './attributes.js';
export type { SftpName, SftpStatvfs } from './messages.js';
export type { SftpReadStreamOptions } from './read-stream.js';
export type { SftpWriteStreamOptions } from './write-stream.js';
export { SftpError } from './sftp-error.js';
export { SftpStatus, SftpExtension, hasReversedSymlink } from './constants.js';

function unavailable(what: string): SshError {
  return new SshError(`${what} serves files through node:fs, which this runtime does not have (browser build)`);
}

/**
 * Browser stand-in of the Node `serveSftp`.
 * @throws SshError always: a page has no file system to serve
 */
export function serveSftp(): never {
  throw unavailable('serveSftp');
}

/**
 * Browser stand-in of the Node `runSftpServer`.
 * @throws SshError always: a page has no file system to serve
 */
export function runSftpServer(): never {
  throw unavailable('runSftpServer');
}
