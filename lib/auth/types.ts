/**
 * The shapes shared by both sides of user authentication (RFC 4252, RFC 4256): the transport port
 * the services consume, the server's authenticating event and the answers a handler may give, and
 * the client's credentials. No protocol logic lives here; the session implements `AuthTransport`.
 */
import type { SessionConfig } from '../config.js';
import type { KeyPair } from '../keys/key-pair.js';
import type { Certificate } from '../keys/certificate.js';
import type { MaybeCertifiedKey } from '../keys/certified-key.js';

/** What an authentication service needs from its session (implemented by the session, not here). */
export interface AuthTransport {
  /** Queues one message payload (ordered); rejects if the session closed. */
  send(payload: Uint8Array): Promise<void>;
  /** Exchange hash of the first key exchange (RFC 4253 §7.2), read when a signature is made or checked. */
  readonly sessionId: Uint8Array;
  readonly config: SessionConfig;
  /** The peer's EXT_INFO extensions (RFC 8308); undefined before or without EXT_INFO. */
  readonly peerExtensions: ReadonlyMap<string, string> | undefined;
  /** Server host key blob of this session's key exchange, bound into hostbound signatures. */
  readonly hostKeyBlob: Uint8Array | undefined;
  /** Ends the session with DISCONNECT (RFC 4253 §11.1). */
  disconnect(reason: number, description: string): void;
}

/** Timer functions, injectable so that timeouts can be tested with fake clocks. */
export interface AuthTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Timers of the global scope, looked up at call time so that fake timers installed later apply. */
export const defaultTimers: AuthTimers = {
  setTimeout(callback, ms) {
    const handle = globalThis.setTimeout(callback, ms) as unknown as { unref?: () => void };
    // The transport keeps the process alive while the session is open; the timer need not.
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

/** The method names a handler sees (RFC 4252 §5; hostbound public key requests report `publickey`). */
export type AuthenticationType = 'none' | 'password' | 'publickey' | 'keyboard-interactive';

/** One keyboard-interactive prompt (RFC 4256 §3.2). */
export interface Prompt {
  readonly prompt: string;
  /** Whether the client should echo what the user types. */
  readonly echo: boolean;
}

/**
 * What the server's `onAuthenticating` handler receives. Fields beyond the common ones are set by
 * method: `password`/`newPassword` for password, `publicKey` for publickey, `submethods`/`prompts`/
 * `responses` for keyboard-interactive.
 */
export interface ServerAuthenticatingEvent {
  readonly authenticationType: AuthenticationType;
  readonly username: string;
  /** The service the client will start once authenticated (normally `ssh-connection`). */
  readonly serviceName: string;
  /** The method name as sent (e.g. `publickey-hostbound-v00@openssh.com`). */
  readonly methodName: string;
  /** Methods this user already passed with partial success, in order. */
  readonly previousMethods: readonly string[];
  readonly password?: string;
  /** RFC 4252 §8: the client asks to change its password to this one. */
  readonly newPassword?: string;
  /** The client's key. When `isQuery` is false its signature, bound to this session, is already verified. */
  readonly publicKey?: KeyPair;
  /** The signature algorithm the client named (e.g. `rsa-sha2-256`). */
  readonly publicKeyAlgorithm?: string;
  /**
   * The client's user certificate (PROTOCOL.certkeys), when it authenticates with one: its CA
   * signature, type (user), validity window and critical options are already checked, and
   * `publicKey` is the key it certifies. Trusting `signatureKey` and matching `principals` to
   * the user are the handler's.
   */
  readonly certificate?: Certificate;
  /** True for a public key query without signature (RFC 4252 §7): accept if the key would be acceptable. */
  readonly isQuery: boolean;
  /** RFC 4256 §3.1 submethods hint from the client. */
  readonly submethods?: readonly string[];
  /** Keyboard-interactive: the prompts of the previous round; undefined in the first call. */
  readonly prompts?: readonly Prompt[];
  /** Keyboard-interactive: the client's answers to `prompts`; undefined in the first call. */
  readonly responses?: readonly string[];
}

/**
 * Returned by a keyboard-interactive handler to ask the client (RFC 4256 §3.2); the handler is
 * called again with `e.prompts` and `e.responses`.
 * @example server.onAuthenticating = (e) => e.responses ? e.responses[0] === 'secret' : new InfoRequest([{ prompt: 'Password: ', echo: false }]);
 */
export class InfoRequest {
  readonly prompts: readonly Prompt[];
  readonly name: string;
  readonly instruction: string;
  constructor(prompts: readonly Prompt[], options: { name?: string; instruction?: string } = {}) {
    this.prompts = prompts;
    this.name = options.name ?? '';
    this.instruction = options.instruction ?? '';
  }
}

/**
 * Returned by a handler to accept this method yet require another one (RFC 4252 §5.1 partial
 * success); `methods` are the methods the client may continue with.
 * @example if (e.authenticationType === 'publickey' && e.previousMethods.length === 0) return new PartialSuccess(['password']);
 */
export class PartialSuccess {
  readonly methods: readonly string[];
  constructor(methods: readonly string[]) {
    this.methods = methods;
  }
}

/**
 * The server handler: falsy (or a throw) rejects; `InfoRequest` asks keyboard-interactive prompts;
 * `PartialSuccess` accepts this step only; anything else truthy accepts and becomes the principal.
 */
export type ServerAuthenticatingHandler = (e: ServerAuthenticatingEvent) => unknown;

/** How a session authenticated (server side). */
export interface AuthenticationResult {
  readonly username: string;
  /** The method of the final, successful step. */
  readonly method: AuthenticationType;
  /** What the handler returned to accept (the app's user object, or `true`). */
  readonly principal: unknown;
  /** The user certificate of the final step, when the client authenticated with one. */
  readonly certificate?: Certificate | undefined;
}

/**
 * A private key (optionally with its certificate, `{ key, certificate }`), or a function producing
 * one when the server offers public key authentication.
 */
export type PrivateKeySource = MaybeCertifiedKey | (() => Promise<MaybeCertifiedKey>);

/** A key an agent holds: its public half, its certificate when it is one, and its comment. */
export interface AgentIdentity {
  readonly publicKey: KeyPair;
  readonly certificate?: Certificate | undefined;
  readonly comment: string;
}

/** What user authentication needs from a key agent (`AgentClient` of `ssh-streams/agent` is one). */
export interface AuthenticationAgent {
  /** The identities to try, in order. */
  listKeys(): Promise<AgentIdentity[]>;
  /** Signs `data` with the identity's private key under the plain `algorithm` (e.g. `rsa-sha2-512`); returns the signature blob. */
  sign(identity: AgentIdentity, data: Uint8Array, algorithm: string): Promise<Uint8Array>;
}

/** Answers keyboard-interactive prompts, one string per prompt (RFC 4256 §3.3). */
export type KeyboardInteractiveResponder = (
  prompts: readonly Prompt[],
  name: string,
  instruction: string,
) => Promise<string[]> | string[];

/** What the client authenticates with; methods without credentials are skipped. */
export interface ClientCredentials {
  username: string;
  password?: string;
  privateKeys?: readonly PrivateKeySource[];
  /** A key agent whose identities are tried after `privateKeys` (query, then sign). */
  agent?: AuthenticationAgent;
  keyboardInteractive?: KeyboardInteractiveResponder;
  /** RFC 4252 §8: asked for a new password when the server requests a change; undefined declines. */
  changePassword?: (prompt: string) => Promise<string | undefined> | string | undefined;
}
