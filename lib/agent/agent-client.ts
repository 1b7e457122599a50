/**
 * The client side of the ssh-agent protocol (draft-miller-ssh-agent) over any byte stream: list
 * identities, sign (with the RSA SHA-2 flags), add (certificates, lifetime and confirm
 * constraints), remove, lock and unlock. Requests are answered
 * in order, so one FIFO of waiters matches replies; a hostile or broken agent (truncated, oversized
 * or unexpected replies) ends the client with an AgentError, never a hang.
 */
import type { Duplex } from '../transport/transport.js';
import { SshReader, SshWriter } from '../codec/wire.js';
import { KeyPair } from '../keys/key-pair.js';
import { Certificate, isCertificateAlgorithm } from '../keys/certificate.js';
import { isCertifiedKey, type MaybeCertifiedKey } from '../keys/certified-key.js';
import { writeConstraints, writeIdentity, type KeyConstraints } from './identity-fields.js';
import type { AgentIdentity, AuthenticationAgent } from '../auth/types.js';
import { AgentError } from './agent-error.js';
import { agentSockets } from './socket-backend.js';
import {
  AgentFramer,
  AgentMessage,
  decodeIdentitiesAnswer,
  decodeSignResponse,
  encodeSignRequest,
  encodeStringRequest,
  frameAgentMessage,
  SignFlags,
} from './protocol.js';

/** A key the agent holds, as `listKeys` returns it. */
export interface AgentKey extends AgentIdentity {
  /** The blob the agent listed: the certificate for a certificate identity, else the public key. */
  readonly blob: Uint8Array;
}

/** Options of `AgentClient.addKey`: the comment and the constraints the agent keeps the key under. */
export interface AddKeyOptions extends KeyConstraints {
  /** The comment the agent lists (default: the key's own). */
  comment?: string;
}

/** Options of `AgentClient`. */
export interface AgentClientOptions {
  /** Largest reply accepted (default 256 KiB, as OpenSSH). */
  maxMessageLength?: number;
}

interface Waiter {
  resolve: (message: Uint8Array) => void;
  reject: (error: Error) => void;
}

/**
 * Talks to an ssh-agent (OpenSSH's, ours, or a forwarded one) over a `{ readable, writable }` pair.
 * @example
 * const agent = await AgentClient.connect(process.env.SSH_AUTH_SOCK!);
 * await client.authenticate({ username: 'me', agent });
 */
export class AgentClient implements AuthenticationAgent {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #framer: AgentFramer;
  readonly #waiters: Waiter[] = [];
  readonly #readable: ReadableStream<Uint8Array>;
  #failure: Error | undefined;

  constructor(duplex: Duplex, options: AgentClientOptions = {}) {
    this.#framer = new AgentFramer(options.maxMessageLength);
    this.#writer = duplex.writable.getWriter();
    this.#writer.closed.catch(() => {});
    this.#readable = duplex.readable;
    void this.#read();
  }

  /**
   * Connects to the agent listening on a Unix socket (`SSH_AUTH_SOCK`). Node only.
   * @throws AgentError when the socket cannot be reached
   */
  static async connect(socketPath: string, options: AgentClientOptions = {}): Promise<AgentClient> {
    return new AgentClient(await agentSockets().connect(socketPath), options);
  }

  /** draft-miller-ssh-agent §3.5: the identities the agent holds (keys of unsupported types are skipped). */
  async listKeys(): Promise<AgentKey[]> {
    const answer = decodeIdentitiesAnswer(await this.#request(frameAgentMessage(AgentMessage.requestIdentities)));
    const keys: AgentKey[] = [];
    for (const { blob, comment } of answer) {
      try {
        const type = new SshReader(blob).utf8();
        if (isCertificateAlgorithm(type)) {
          const certificate = new Certificate(blob, comment);
          keys.push({ publicKey: certificate.publicKey, certificate, comment, blob });
        } else {
          keys.push({ publicKey: KeyPair.fromPublicKeyBlob(blob, comment), comment, blob });
        }
      } catch {
        // DSA, security keys and other types we cannot use are not offered.
      }
    }
    return keys;
  }

  /**
   * draft-miller-ssh-agent §3.6: signs `data` with the agent's key (a KeyPair, a listed identity or
   * a raw blob) under `algorithm` (for RSA `rsa-sha2-256` or `rsa-sha2-512`, default SHA-512).
   * @returns the signature blob
   * @throws AgentError when the agent refuses or signs under another algorithm
   */
  async sign(key: KeyPair | AgentIdentity | Uint8Array, data: Uint8Array, algorithm?: string): Promise<Uint8Array> {
    const blob = key instanceof Uint8Array ? key : key instanceof KeyPair ? key.publicKeyBlob : (key.certificate?.blob ?? key.publicKey.publicKeyBlob);
    const keyType = new SshReader(blob).utf8();
    const rsa = keyType === 'ssh-rsa' || keyType === 'ssh-rsa-cert-v01@openssh.com';
    const wanted = algorithm ?? (rsa ? 'rsa-sha2-512' : undefined);
    const flags = wanted === 'rsa-sha2-256' ? SignFlags.rsaSha2_256 : wanted === 'rsa-sha2-512' ? SignFlags.rsaSha2_512 : 0;
    const signature = decodeSignResponse(await this.#request(encodeSignRequest({ blob, data, flags })));
    const signedWith = (() => {
      try {
        return new SshReader(signature).utf8();
      } catch {
        return '(unreadable)';
      }
    })();
    if (wanted !== undefined && signedWith !== wanted) {
      throw new AgentError(`Agent signed with ${signedWith.slice(0, 60)} instead of ${wanted}`);
    }
    return signature;
  }

  /**
   * draft-miller-ssh-agent §3.2: adds a private key, as `ssh-add` does: a certified key adds the
   * plain key and then its certificate (PROTOCOL.certkeys). With `lifetime` (seconds) or `confirm`
   * the key goes in SSH_AGENTC_ADD_ID_CONSTRAINED (§3.2.7), like `ssh-add -t` and `ssh-add -c`.
   * @param options a comment, or `{ comment, lifetime, confirm }`
   * @throws AgentError when the agent refuses (e.g. a constraint it does not support)
   * @example await agent.addKey({ key, certificate }, { lifetime: 3600, confirm: true });
   */
  async addKey(key: MaybeCertifiedKey, options: string | AddKeyOptions = {}): Promise<void> {
    const { comment, ...constraints } = typeof options === 'string' ? { comment: options } : options;
    const pair = isCertifiedKey(key) ? key.key : key;
    if (!pair.hasPrivateKey) throw new AgentError(`Cannot add a ${pair.keyType} key without its private half to the agent`);
    const certificates = isCertifiedKey(key) ? [undefined, key.certificate] : [undefined];
    for (const certificate of certificates) {
      const w = new SshWriter(1024);
      writeIdentity(w, { key: pair, certificate, comment: comment ?? pair.comment });
      const constrained = writeConstraints(w, constraints);
      const type = constrained ? AgentMessage.addIdConstrained : AgentMessage.addIdentity;
      await this.#expectSuccess(frameAgentMessage(type, w.toBytes()), `add ${certificate?.certificateType ?? pair.keyType} key${constrained ? ' with constraints' : ''}`);
    }
  }

  /** draft-miller-ssh-agent §3.4: removes one key. */
  async removeKey(key: KeyPair | AgentIdentity): Promise<void> {
    const blob = key instanceof KeyPair ? key.publicKeyBlob : (key.certificate?.blob ?? key.publicKey.publicKeyBlob);
    await this.#expectSuccess(encodeStringRequest(AgentMessage.removeIdentity, blob), 'remove key');
  }

  /** draft-miller-ssh-agent §3.4: removes every key. */
  async removeAllKeys(): Promise<void> {
    await this.#expectSuccess(frameAgentMessage(AgentMessage.removeAllIdentities), 'remove all keys');
  }

  /** draft-miller-ssh-agent §3.7: locks the agent with a passphrase. */
  async lock(passphrase: string): Promise<void> {
    await this.#expectSuccess(encodeStringRequest(AgentMessage.lock, passphrase), 'lock');
  }

  /** draft-miller-ssh-agent §3.7: unlocks the agent. */
  async unlock(passphrase: string): Promise<void> {
    await this.#expectSuccess(encodeStringRequest(AgentMessage.unlock, passphrase), 'unlock');
  }

  /** Closes the connection to the agent; pending requests reject. */
  async close(): Promise<void> {
    this.#fail(new AgentError('Agent connection closed'));
    await this.#writer.close().catch(() => {});
  }

  async #expectSuccess(request: Uint8Array, what: string): Promise<void> {
    const reply = await this.#request(request);
    if (reply.length !== 1 || reply[0] !== AgentMessage.success) {
      throw new AgentError(`Agent refused to ${what}${reply[0] === AgentMessage.failure ? '' : ` (answered message ${reply[0]})`}`);
    }
  }

  async #request(frame: Uint8Array): Promise<Uint8Array> {
    if (this.#failure) throw this.#failure;
    const reply = new Promise<Uint8Array>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    try {
      await this.#writer.write(frame);
    } catch (cause) {
      this.#fail(new AgentError(`Cannot write to the agent: ${(cause as Error).message}`, { cause }));
    }
    return reply;
  }

  async #read(): Promise<void> {
    const reader = this.#readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const message of this.#framer.push(value)) {
          const waiter = this.#waiters.shift();
          if (!waiter) throw new AgentError(`Agent sent message ${message[0]} that answers no request`);
          waiter.resolve(message);
        }
      }
      this.#fail(new AgentError(this.#framer.hasPartial ? 'Agent reply was truncated by the end of the connection' : 'Agent closed the connection'));
    } catch (error) {
      this.#fail(error instanceof AgentError ? error : new AgentError(`Agent connection failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      reader.cancel().catch(() => {});
    } finally {
      reader.releaseLock();
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failure);
    this.#writer.abort(error).catch(() => {});
  }
}
