/** Every library `npm run bench` measures in one process, by its bench name. */
import type { Peer } from '../types.js';
import { sshStreamsPeer } from './ssh-streams.js';
import { ssh2NoAddonPeer, ssh2Peer } from './ssh2.js';
import { devTunnelsPeer } from './dev-tunnels-ssh.js';

export const allPeers: readonly Peer[] = [sshStreamsPeer, ssh2Peer, ssh2NoAddonPeer, devTunnelsPeer];
