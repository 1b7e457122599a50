/**
 * The live server the fuzzer attacks: one host key and one config shared by every ServerSession
 * it starts, an in-process application (password `user`/`secret`; `session` channels that echo
 * their data and answer exec, shell, subsystem, pty-req, env, window-change and signal; global
 * requests refused except the health probe) and the counters the leak checks read: sessions and
 * channels that were opened and have not ended yet.
 */
import { ServerSession } from '../lib/server-session.js';
import { SessionConfig } from '../lib/config.js';
import { DisconnectError, SshError } from '../lib/errors.js';
import type { KeyPair } from '../lib/keys/key-pair.js';
import type { Channel } from '../lib/mux/channel.js';
import type { Duplex } from '../lib/transport/transport.js';

/** The global request the health checks send; the server answers it with SUCCESS. */
export const HEALTH_REQUEST = 'health@fuzz.ssh-streams';

/** What a session ended with, as the fuzzer judges it. */
export interface SessionEnding {
  /** An error that is no SshError: a crash inside the library, whether `closed` rejected with it or with a wrapper of it. */
  foreignError?: unknown;
}

/**
 * The crash behind a session's end, if any. The transport ends on any exception, wrapping what is
 * not an SshError into a CONNECTION_LOST DisconnectError (without sending DISCONNECT), so the
 * wrapper's cause is what tells a decoder's ProtocolError from a TypeError thrown by a bug.
 */
export function crashBehind(error: unknown): unknown {
  if (!(error instanceof SshError)) return error;
  if (error instanceof DisconnectError && error.cause !== undefined && !(error.cause instanceof SshError)) return error.cause;
  return undefined;
}

/** A ServerSession factory with shared state and live counters. */
export class FuzzServer {
  readonly config: SessionConfig;
  readonly hostKey: KeyPair;
  /** Sessions whose `closed` has not settled. */
  readonly openSessions = new Set<ServerSession>();
  /** Channels confirmed or pending whose `closed` has not settled. */
  readonly openChannels = new Set<Channel>();
  /** Sessions ended with something other than a clean close or an SshError. */
  readonly foreignErrors: unknown[] = [];
  /** How sessions ended: error class and message with numbers elided, counted. */
  readonly endings = new Map<string, number>();
  sessionsStarted = 0;
  channelsOpened = 0;

  constructor(hostKey: KeyPair, config: SessionConfig = SessionConfig.default()) {
    this.hostKey = hostKey;
    this.config = config;
  }

  /**
   * Starts a server session on `duplex`; resolves when it ended (never rejects).
   * @returns the session and a promise of how it ended
   */
  start(duplex: Duplex): { session: ServerSession; ended: Promise<SessionEnding> } {
    const session = new ServerSession(this.config, { hostKeys: [this.hostKey] });
    this.sessionsStarted++;
    this.openSessions.add(session);
    session.onAuthenticating = (e) => e.authenticationType === 'password' && e.username === 'user' && e.password === 'secret';
    session.onRequest = (e) => e.requestType === HEALTH_REQUEST;
    session.onChannelOpening = (e) => {
      if (e.channelType !== 'session') return e.reject();
      e.handled = true;
      this.#serve(e.channel);
    };
    const ended = session.closed.then(
      (): SessionEnding => {
        this.#count('clean close');
        return {};
      },
      (error: unknown): SessionEnding => {
        this.#count(error instanceof Error ? `${error.name}: ${error.message.replace(/\d+/g, 'N').slice(0, 70)}` : String(error));
        const crash = crashBehind(error);
        return crash === undefined ? {} : { foreignError: crash };
      },
    );
    void ended.then((ending) => {
      this.openSessions.delete(session);
      if (ending.foreignError !== undefined) this.foreignErrors.push(ending.foreignError);
    });
    // A connect failure is the session's end, reported through `closed`.
    session.connect(duplex).catch(() => {});
    return { session, ended };
  }

  #count(ending: string): void {
    this.endings.set(ending, (this.endings.get(ending) ?? 0) + 1);
  }

  #serve(channel: Channel): void {
    let echoing = false;
    this.channelsOpened++;
    this.openChannels.add(channel);
    const forget = (): void => void this.openChannels.delete(channel);
    channel.closed.then(forget, forget);
    channel.onRequest = (e) => {
      switch (e.requestType) {
        case 'exec':
        case 'shell':
        case 'subsystem':
          if (echoing) return false;
          echoing = true;
          this.#echo(channel);
          return true;
        case 'pty-req':
        case 'env':
        case 'window-change':
        case 'signal':
          return true;
        default:
          return false;
      }
    };
  }

  /** Echoes the channel's data; once the peer's EOF arrived, closes with exit status 0. */
  #echo(channel: Channel): void {
    channel.readable
      .pipeTo(channel.writable, { preventClose: true })
      .then(() => channel.close({ exitStatus: 0 }))
      .catch(() => channel.close().catch(() => {}));
  }
}
