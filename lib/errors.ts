/**
 * The SshError hierarchy. Every error the library raises is one of these; messages name the
 * values involved. A ProtocolError carries the RFC 4253 §11.1 reason the transport sends in its
 * DISCONNECT, so no layer has to guess one.
 */

/** RFC 4253 §11.1 disconnect reason codes. */
export const DisconnectReason = {
  hostNotAllowedToConnect: 1,
  protocolError: 2,
  keyExchangeFailed: 3,
  reserved: 4,
  macError: 5,
  compressionError: 6,
  serviceNotAvailable: 7,
  protocolVersionNotSupported: 8,
  hostKeyNotVerifiable: 9,
  connectionLost: 10,
  byApplication: 11,
  tooManyConnections: 12,
  authCancelledByUser: 13,
  noMoreAuthMethodsAvailable: 14,
  illegalUserName: 15,
} as const;
/** One of the RFC 4253 §11.1 reason codes. */
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

/** RFC 4254 §5.1 channel open failure reason codes. */
export const ChannelOpenFailureReason = {
  administrativelyProhibited: 1,
  connectFailed: 2,
  unknownChannelType: 3,
  resourceShortage: 4,
} as const;
/** One of the RFC 4254 §5.1 reason codes. */
export type ChannelOpenFailureReason =
  (typeof ChannelOpenFailureReason)[keyof typeof ChannelOpenFailureReason];

/** Base of every error raised by ssh-streams. */
export class SshError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** We detected a violation of the protocol; the session sends DISCONNECT with `reason`. */
export class ProtocolError extends SshError {
  readonly reason: DisconnectReason;
  constructor(message: string, reason: DisconnectReason = DisconnectReason.protocolError, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** The peer ended the session with SSH_MSG_DISCONNECT (RFC 4253 §11.1), or the link was lost. */
export class DisconnectError extends SshError {
  readonly reason: number;
  readonly description: string;
  constructor(reason: number, description: string, options?: ErrorOptions) {
    super(`Disconnected (reason ${reason}${description ? `: ${description}` : ''})`, options);
    this.reason = reason;
    this.description = description;
  }
}

/** RFC 4253 §7.1: no algorithm of one kind is supported by both sides. */
export class AlgorithmNegotiationError extends ProtocolError {
  readonly kind: string;
  readonly ours: readonly string[];
  readonly theirs: readonly string[];
  constructor(kind: string, ours: readonly string[], theirs: readonly string[]) {
    super(
      `No common ${kind} algorithm: ours [${ours.join(',')}], theirs [${theirs.join(',')}]`,
      DisconnectReason.keyExchangeFailed,
    );
    this.kind = kind;
    this.ours = ours;
    this.theirs = theirs;
  }
}

/** The peer's host key was refused or its signature did not verify. */
export class HostKeyError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, DisconnectReason.hostKeyNotVerifiable, options);
  }
}

/** Authentication failed or could not be attempted; `methods` lists the methods tried. */
export class AuthenticationError extends SshError {
  readonly methods: readonly string[];
  constructor(message: string, methods: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.methods = methods;
  }
}

/** RFC 4254 §5.1: the peer refused to open a channel. */
export class ChannelOpenError extends SshError {
  readonly reason: number;
  readonly description: string;
  constructor(reason: number, description: string, options?: ErrorOptions) {
    super(`Channel open failed (reason ${reason}${description ? `: ${description}` : ''})`, options);
    this.reason = reason;
    this.description = description;
  }
}

/** The channel was closed (by either side or with its session) while an operation was pending. */
export class ChannelClosedError extends SshError {}

/** A key could not be parsed, decrypted or used; the message says what was expected. */
export class KeyError extends SshError {}

/** Failure reasons of the Microsoft session-reconnect extension (Dev Tunnels `SshReconnectFailureReason`). */
export const ReconnectFailureReason = {
  none: 0,
  unknownServerFailure: 1,
  sessionNotFound: 2,
  invalidClientReconnectToken: 3,
  serverDroppedMessages: 4,
  unknownClientFailure: 101,
  differentServerHostKey: 102,
  invalidServerReconnectToken: 103,
  clientDroppedMessages: 104,
} as const;
/** One of the session-reconnect failure reasons. */
export type ReconnectFailureReason = (typeof ReconnectFailureReason)[keyof typeof ReconnectFailureReason];

/**
 * A session reconnection was refused or could not be verified. The session stays disconnected
 * (not closed), so `reconnect` may be tried again.
 */
export class ReconnectError extends SshError {
  readonly reason: number;
  readonly description: string;
  constructor(reason: number, description: string, options?: ErrorOptions) {
    const name = Object.entries(ReconnectFailureReason).find(([, code]) => code === reason)?.[0] ?? 'unknown';
    super(`Reconnect failed (reason ${reason} ${name}${description ? `: ${description}` : ''})`, options);
    this.reason = reason;
    this.description = description;
  }
}
