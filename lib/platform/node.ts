/**
 * The Node backend of every layer (node:crypto, node:zlib): imported for its effect, first, by each
 * Node entry point (the `node`, `bun` and `deno` export conditions) and by the spec setup. Each
 * layer owns the small interface it needs and its own `install…` function; this file only wires
 * the Node implementations in, once.
 */
import { installKeySuite } from '../keys/suite.js';
import { nodeKeySuite } from '../keys/suites/node.js';

installKeySuite(nodeKeySuite);

import { installCipherSuite } from '../cipher/suite.js';
import { nodeCipherSuite } from '../cipher/suites/node.js';
import { installZlibBackend } from '../compression/zlib-engine.js';
import { nodeZlibBackend } from '../compression/sync-zlib.js';

installCipherSuite(nodeCipherSuite);
installZlibBackend(nodeZlibBackend);

// Node-only I/O: forwarding's sockets, and serveExec's processes (node:child_process is imported on first use).
import * as nodeNet from 'node:net';
import { installNet } from '../forwarding/net-backend.js';
import { installChildProcess } from '../session/process-backend.js';
installNet(nodeNet);
installChildProcess(() => import('node:child_process'));

// connect(socket): a node:net Socket runs through the project's own adapter, not Duplex.toWeb.
import { installByteStreamAdapter } from '../transport/byte-stream-adapter.js';
import { socketToDuplex } from '../tcp/socket-duplex.js';
installByteStreamAdapter('a connected node:net Socket', (stream) => (stream instanceof nodeNet.Socket ? socketToDuplex(stream) : undefined));

// Key exchange: node:crypto's X25519, ECDH, Diffie-Hellman and hashes.
import { installKexBackend } from '../kex/backend.js';
import { nodeKexBackend } from '../kex/backends/node.js';
installKexBackend(nodeKexBackend);

// The agent's Unix sockets (SSH_AUTH_SOCK, forwarded agents) and the known_hosts file of clients,
// loaded on first use: most sessions touch neither, and every module loaded stays in the heap the
// collector marks on each full collection (node:fs/promises alone is about 100 KB of it).
import { installAgentSockets } from '../agent/socket-backend.js';
import { installKnownHostsFiles } from '../keys/known-hosts-verifier.js';
const agentSockets = async () => (await import('../agent/unix-socket.js')).nodeAgentSockets;
installAgentSockets({
  connect: async (path) => (await agentSockets()).connect(path),
  listen: async (onConnection) => (await agentSockets()).listen(onConnection),
});
installKnownHostsFiles({
  readFile: async (path, encoding) => (await import('node:fs/promises')).readFile(path, encoding),
  appendFile: async (path, data, options) => (await import('node:fs/promises')).appendFile(path, data, options),
});
