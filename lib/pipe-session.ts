/**
 * Session piping for relays (reference README "Piping"): two authenticated sessions joined so
 * that the peer of one talks to the peer of the other. Global requests are forwarded with their
 * reply data, channel opens are forwarded (refusals carry the far side's reason) and each pair of
 * channels is piped with data, extended data, channel requests, EOF and close. Each session keeps
 * its own keys: the relay decrypts and re-encrypts.
 */
import { ChannelOpenError, ChannelOpenFailureReason } from './errors.js';
import type { SshSession } from './ssh-session.js';

/** Requests a relay answers itself instead of forwarding (they concern the hop, not the peers). */
const hopLocalRequests = new Set(['keepalive@openssh.com']);

/**
 * Pipes two sessions until either closes, then closes the other.
 * @example
 * server.onAuthenticating = ...;  // authenticate the inbound client
 * await backend.authenticate(...); // authenticate the outbound hop
 * await pipeSession(server, backend);
 */
export async function pipeSession(a: SshSession, b: SshSession): Promise<void> {
  // Installed at once, not after the awaits: an open or request reaching either session from
  // this call on is relayed, even over an in-memory link that delivers within the same turn.
  relay(a, b);
  relay(b, a);
  await Promise.all([a.connectionReady, b.connectionReady]);
  const ended = (s: SshSession) => s.closed.then(() => s, () => s);
  const first = await Promise.race([ended(a), ended(b)]);
  const other = first === a ? b : a;
  await other.close();
}

/** Forwards what `from`'s peer asks of `from` to `to`'s peer. */
function relay(from: SshSession, to: SshSession): void {
  from.onRequest = async (e) => {
    if (hopLocalRequests.has(e.requestType)) return false;
    const reply = await to.requestWithReply({ requestType: e.requestType, wantReply: e.wantReply, data: e.data });
    if (reply.success && reply.data.length > 0) e.responseData = reply.data;
    return reply.success;
  };
  from.onChannelOpening = async (e) => {
    try {
      const far = await to.openChannel(e.channelType, { data: e.data });
      e.handled = true;
      // The near channel is confirmed right after this handler returns; writes wait for it.
      void e.channel.pipe(far).catch(() => {});
    } catch (error) {
      if (error instanceof ChannelOpenError) e.reject(error.reason as ChannelOpenFailureReason, error.description);
      else e.reject(ChannelOpenFailureReason.connectFailed, (error as Error).message);
    }
  };
}
