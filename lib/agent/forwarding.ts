/**
 * Agent forwarding (OpenSSH PROTOCOL §4.1 `auth-agent-req@openssh.com`, channel type
 * `auth-agent@openssh.com`): on the client, each channel the server opens is piped to a fresh
 * connection to the local agent; on the server, a private Unix socket whose connections become
 * channels opened back to the client. Node only for socket paths; loaded lazily.
 */
import type { Duplex } from '../transport/transport.js';
import type { Channel } from '../mux/channel.js';
import type { AgentForwardingTarget } from '../mux/channel-types.js';
import { agentSockets, type AgentSocket } from './socket-backend.js';

const noop = (): void => {};

/** Pipes two byte pairs both ways; resolves when both directions ended. */
export async function pipeDuplexes(a: Duplex, b: Duplex): Promise<void> {
  await Promise.all([a.readable.pipeTo(b.writable).catch(noop), b.readable.pipeTo(a.writable).catch(noop)]);
}

/**
 * Client side: connects to the agent `target` (a socket path or a function giving a byte pair);
 * the caller accepts the channel only if this resolves, then pipes with `pipeDuplexes`.
 */
export async function connectAgentTarget(target: AgentForwardingTarget): Promise<Duplex> {
  if (typeof target !== 'string') return target();
  return agentSockets().connect(target);
}

/**
 * Server side: listens on a private socket; each connection opens an `auth-agent@openssh.com`
 * channel with `openChannel` and is piped to it. Close it when the session channel closes.
 */
export async function listenForwardedAgent(openChannel: () => Promise<Channel>): Promise<AgentSocket> {
  return agentSockets().listen((duplex) => {
    void (async () => {
      let channel: Channel;
      try {
        channel = await openChannel();
      } catch {
        await duplex.writable.abort().catch(noop);
        await duplex.readable.cancel().catch(noop);
        return;
      }
      await pipeDuplexes(duplex, channel);
      await channel.close().catch(noop);
    })();
  });
}
