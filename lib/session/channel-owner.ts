/**
 * Which session a channel belongs to, for channel handlers that need the session around it:
 * `serveExec` runs a certificate's forced command and opens agent channels back to the client.
 * The session records each channel the peer opens; a WeakMap, so nothing outlives its channel.
 */
import type { Channel } from '../mux/channel.js';

/** What a channel handler may ask of the session that owns the channel. */
export interface ChannelOwner {
  /** PROTOCOL.certkeys `force-command` of the client's user certificate, when it had one. */
  readonly forcedCommand?: string | undefined;
  /** RFC 4254 §5.1: opens a channel to the peer. */
  openChannel(channelType: string): Promise<Channel>;
}

const owners = new WeakMap<Channel, ChannelOwner>();

/** Records the session that owns `channel`. */
export function setChannelOwner(channel: Channel, owner: ChannelOwner): void {
  owners.set(channel, owner);
}

/** The session that owns `channel`, when a session recorded it. */
export function channelOwner(channel: Channel): ChannelOwner | undefined {
  return owners.get(channel);
}
