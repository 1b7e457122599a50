/**
 * The `ssh-streams/agent` entry for browsers: installs the portable backend, then the same public
 * exports as on Node. The agent protocol runs over any byte pair; socket paths throw an SshError.
 */
import '../platform/web.js';
export * from './index.js';
