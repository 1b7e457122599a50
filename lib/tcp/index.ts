/** ssh-streams/tcp: TCP wrappers (node:net) around client and server sessions. */
import '../platform/node.js';
export { TcpClient } from './tcp-client.js';
export type { OpenSessionOptions } from './tcp-client.js';
export { TcpServer } from './tcp-server.js';
export type { ServerCredentials, TcpServerCloseOptions, MaxStartups } from './tcp-server.js';
export { socketToDuplex } from './socket-duplex.js';
export { StartupLimiter, defaultMaxStartups } from './startup-limits.js';
