/**
 * The shapes around a Channel: how it ended, what close() sends, the requests it sends, and the
 * narrow interfaces between a channel and its connection (ChannelHost one way, ChannelInbound the
 * other). Types only; the behaviour is in channel.ts and connection.ts.
 */
import type { Channel } from './channel.js';
import type { ChannelRequestEvent, RequestHandler } from './events.js';
import type { RequestBudget } from './channel-requests.js';

/** How a channel ended, as `channel.closed` reports it. */
export interface ChannelCloseInfo {
  /** Who ended the channel: our CLOSE, the peer's CLOSE, or the session. */
  closedBy: 'local' | 'remote' | 'session';
  /** RFC 4254 §6.10 exit-status, when sent before CLOSE. */
  exitStatus?: number;
  /** RFC 4254 §6.10 exit-signal name (without "SIG"). */
  exitSignal?: string;
  coreDumped?: boolean;
  errorMessage?: string;
  /** The session error when `closedBy` is 'session'. */
  error?: Error;
}

/** What `channel.close()` sends before CLOSE (RFC 4254 §6.10). */
export type ChannelCloseOptions =
  | { exitStatus: number }
  | { exitSignal: string; coreDumped?: boolean; errorMessage?: string };

/** A request we send on a channel (RFC 4254 §5.4). */
export interface ChannelRequestOptions {
  requestType: string;
  wantReply?: boolean;
  data?: Uint8Array;
}

/** A service that handles channel requests (see connection.ts "Services"). */
export interface ChannelRequestService {
  onChannelRequest?: RequestHandler<ChannelRequestEvent>;
}

/** What a channel needs from its connection. */
export interface ChannelHost {
  /** The session the channel belongs to (the connection itself when it has no session). */
  readonly owner: object;
  /** The peer's channel requests waiting across the session's channels. */
  readonly pendingRequests: RequestBudget;
  send(payload: Uint8Array): Promise<void>;
  /** The channel sent CLOSE: its id leaves the channel table. */
  release(channel: Channel): void;
  /** The activated service that handles `requestType` on this channel, if any. */
  requestService(channel: Channel, requestType: string): ChannelRequestService | undefined;
  /** OpenSSH PROTOCOL §4.1: agent channels the peer opens from now on are served by `target`. */
  forwardAgent(target: AgentForwardingTarget): void;
}

/**
 * Where forwarded agent connections go: an `SSH_AUTH_SOCK` path (Node), or a function giving a
 * fresh byte pair to an agent for each connection.
 */
export type AgentForwardingTarget =
  | string
  | (() => Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>);

/** Peer events the connection routes to a channel (internal to lib/mux). */
export interface ChannelInbound {
  confirm(remoteId: number, initialWindow: number, maxPacket: number): void;
  data(data: Uint8Array): void;
  extendedData(dataTypeCode: number, data: Uint8Array): void;
  windowAdjust(bytesToAdd: number): void;
  eof(): void;
  close(): void;
  request(requestType: string, wantReply: boolean, data: Uint8Array): void;
  /** Queues a request whose answer is not a CHANNEL_SUCCESS/FAILURE (initial channel request). */
  queue(event: ChannelRequestEvent, respond: (success: boolean) => void): void;
  reply(success: boolean): void;
  fail(error: Error): void;
  /** The owner had its chance to set `onRequest` (a macrotask after the hand-over): requests start flowing. */
  deliver(): void;
}

/** How the connection creates a channel. */
export interface ChannelOptions {
  host: ChannelHost;
  channelType: string;
  localId: number;
  maxWindowSize: number;
  maxPacketSize: number;
  bind(inbound: ChannelInbound): void;
}
