/** The `ssh-streams/agent` entry for Node, Bun and Deno: installs the Node backend (sockets, node:crypto), then the public exports. */
import '../platform/node.js';
export * from './index.js';
