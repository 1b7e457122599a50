/**
 * ssh-streams/sftp: SFTP version 3 (draft-ietf-secsh-filexfer-02) with the OpenSSH extensions,
 * both sides: a pipelined client whose files are Web Streams, and a server confined to a root.
 * Installs no backend (the entry points `index.node.ts` and `index.browser.ts` do, then re-export this).
 */
export { SftpClient, SftpFile } from './client.js';
export type { SftpClientOptions, SftpLimits } from './client.js';
export { SftpAttributes } from './attributes.js';
export type { SftpAttributesInit } from './attributes.js';
export type { SftpName, SftpStatvfs } from './messages.js';
export type { SftpReadStreamOptions } from './read-stream.js';
export type { SftpWriteStreamOptions } from './write-stream.js';
export { SftpError } from './sftp-error.js';
export { SftpStatus, SftpExtension, hasReversedSymlink } from './constants.js';
export { serveSftp, runSftpServer } from './server.js';
export type { SftpServerOptions } from './server.js';
