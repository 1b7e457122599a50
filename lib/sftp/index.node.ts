/** The `ssh-streams/sftp` entry for Node, Bun and Deno: installs the Node backend (node:crypto), then the public exports. */
import '../platform/node.js';
export * from './index.js';
