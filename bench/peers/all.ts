/**
 * The libraries `npm run bench` measures, by bench name, each loaded on its own: a child process
 * (bench/peer-child.ts) imports only the library it measures.
 */
import type { Peer } from '../types.js';

export const peerLoaders: Record<string, () => Promise<Peer>> = {
  'ssh-streams': async () => (await import('./ssh-streams.js')).sshStreamsPeer,
  ssh2: async () => (await import('./ssh2.js')).ssh2Peer,
  'ssh2-no-addon': async () => (await import('./ssh2.js')).ssh2NoAddonPeer,
  'dev-tunnels-ssh': async () => (await import('./dev-tunnels-ssh.js')).devTunnelsPeer,
};

/** Every library, loaded (for the process that only orchestrates). */
export function loadAllPeers(): Promise<Peer[]> {
  return Promise.all(Object.values(peerLoaders).map((load) => load()));
}
