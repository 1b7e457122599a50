/**
 * An ssh-agent serving keys held in memory (draft-miller-ssh-agent), over any byte stream or a
 * Unix socket: list, sign (honouring the RSA SHA-2 flags), add (certificates and the lifetime and
 * confirm constraints included), remove, lock and unlock. For tests
 * and embedded use; `ssh`, `ssh-add` and our AgentClient all talk to it. Malformed requests get
 * SSH_AGENT_FAILURE; a frame over the size bound ends that connection.
 */
import type { Duplex } from '../transport/transport.js';
import { SshReader } from '../codec/wire.js';
import { KeyPair, type KeyType, type PublicKeyAlgorithmName } from '../keys/key-pair.js';
import { isCertifiedKey, keyOf, type MaybeCertifiedKey } from '../keys/certified-key.js';
import { readConstraints, readIdentity, type KeyConstraints } from './identity-fields.js';
import { agentSockets, type AgentSocket } from './socket-backend.js';
import {
  AgentFramer,
  AgentMessage,
  decodeSignRequest,
  decodeStringRequest,
  decodeWith,
  encodeIdentitiesAnswer,
  encodeSignResponse,
  frameAgentMessage,
  SignFlags,
} from './protocol.js';

interface HeldKey {
  key: KeyPair;
  blob: Uint8Array;
  comment: string;
  /** `options.now()` time after which the key is forgotten (lifetime constraint). */
  expiresAt?: number;
  /** Each signature needs `options.confirm` (confirm constraint). */
  confirm?: boolean;
}

/** Options of `AgentServer`. */
export interface AgentServerOptions {
  /** Clock in milliseconds for lifetime constraints (default `Date.now`; injected in tests). */
  now?: () => number;
  /**
   * Asked before each signature with a key added under the confirm constraint (`ssh-add -c`);
   * without it such keys never sign.
   */
  confirm?: (key: { publicKey: KeyPair; comment: string }) => boolean | Promise<boolean>;
}

const success = frameAgentMessage(AgentMessage.success);
const failure = frameAgentMessage(AgentMessage.failure);

/**
 * An in-memory key agent.
 * @example
 * const agent = new AgentServer([await generateKeyPair('ssh-ed25519')]);
 * const socket = await agent.listen();            // socket.path for SSH_AUTH_SOCK
 */
export class AgentServer {
  #keys: HeldKey[] = [];
  #lockPassphrase: string | undefined;
  readonly #now: () => number;
  readonly #confirm: AgentServerOptions['confirm'];

  constructor(keys: readonly MaybeCertifiedKey[] = [], options: AgentServerOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#confirm = options.confirm;
    for (const key of keys) this.addKey(key);
  }

  /**
   * Holds `key` (with its certificate, listed as a second identity, when given), under the
   * constraints given (draft-miller-ssh-agent §3.2.7).
   */
  addKey(key: MaybeCertifiedKey, comment?: string, constraints: KeyConstraints = {}): void {
    const pair = keyOf(key);
    if (!pair.hasPrivateKey) throw new TypeError(`An agent key needs its private half (${pair.keyType})`);
    const held = { key: pair, comment: comment ?? pair.comment, ...this.#held(constraints) };
    this.#add({ ...held, blob: pair.publicKeyBlob });
    if (isCertifiedKey(key)) this.#add({ ...held, blob: key.certificate.blob });
  }

  /** The identities held, in the order they are listed, with their constraints. */
  get keys(): readonly { publicKey: KeyPair; blob: Uint8Array; comment: string; expiresAt?: number; confirm?: boolean }[] {
    return this.#live().map((k) => ({ publicKey: k.key, blob: k.blob, comment: k.comment, expiresAt: k.expiresAt, confirm: k.confirm }));
  }

  /** True while locked (no identities listed, no signatures). */
  get isLocked(): boolean {
    return this.#lockPassphrase !== undefined;
  }

  /** Serves one agent connection until it ends. Never throws. */
  async serve(duplex: Duplex): Promise<void> {
    const framer = new AgentFramer();
    const writer = duplex.writable.getWriter();
    const reader = duplex.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const message of framer.push(value)) await writer.write(await this.handle(message));
      }
      await writer.close();
    } catch {
      await writer.abort().catch(() => {});
      await reader.cancel().catch(() => {});
    } finally {
      writer.releaseLock();
      reader.releaseLock();
    }
  }

  /**
   * Listens on a Unix socket in a private temporary directory (Node only).
   * @returns the socket path and a close function that removes it
   */
  async listen(): Promise<AgentSocket> {
    return agentSockets().listen((duplex) => void this.serve(duplex));
  }

  /** Answers one request (type byte first) with a framed reply. */
  async handle(message: Uint8Array): Promise<Uint8Array> {
    try {
      return (await this.#answer(message)) ?? failure;
    } catch {
      return failure;
    }
  }

  async #answer(message: Uint8Array): Promise<Uint8Array | undefined> {
    const type = message[0];
    const locked = this.#lockPassphrase !== undefined;
    switch (type) {
      case AgentMessage.requestIdentities:
        decodeWith(message, type, 'request identities', () => undefined);
        return encodeIdentitiesAnswer(locked ? [] : this.#live().map(({ blob, comment }) => ({ blob, comment })));
      case AgentMessage.signRequest: {
        const request = decodeSignRequest(message);
        const held = locked ? undefined : this.#find(request.blob);
        if (!held) return undefined;
        if (held.confirm && !(await this.#confirm?.({ publicKey: held.key, comment: held.comment }))) return undefined;
        const algorithm = signingAlgorithm(held.key.keyType, request.flags);
        return encodeSignResponse(await held.key.sign(algorithm, request.data));
      }
      case AgentMessage.addIdentity:
      case AgentMessage.addIdConstrained: {
        if (locked) return undefined;
        const constrained = type === AgentMessage.addIdConstrained;
        const { identity, constraints } = decodeWith(message, type, constrained ? 'add constrained identity' : 'add identity', (r) => ({
          identity: readIdentity(r),
          constraints: constrained ? readConstraints(r) : {},
        }));
        const { key, certificate, comment } = identity;
        // A certificate arrives on its own (ssh-add sends the plain key first): only it is added.
        if (certificate) this.#add({ key, blob: certificate.blob, comment, ...this.#held(constraints) });
        else this.addKey(key, comment, constraints);
        return success;
      }
      case AgentMessage.removeIdentity: {
        if (locked) return undefined;
        const blob = decodeStringRequest(message, type, 'remove identity');
        const before = this.#keys.length;
        this.#keys = this.#keys.filter((k) => !sameBytes(k.blob, blob));
        return this.#keys.length < before ? success : undefined;
      }
      case AgentMessage.removeAllIdentities:
        if (locked) return undefined;
        decodeWith(message, type, 'remove all identities', () => undefined);
        this.#keys = [];
        return success;
      case AgentMessage.lock: {
        const passphrase = new TextDecoder().decode(decodeStringRequest(message, type, 'lock'));
        if (locked) return undefined;
        this.#lockPassphrase = passphrase;
        return success;
      }
      case AgentMessage.unlock: {
        const passphrase = new TextDecoder().decode(decodeStringRequest(message, type, 'unlock'));
        if (!locked || passphrase !== this.#lockPassphrase) return undefined;
        this.#lockPassphrase = undefined;
        return success;
      }
      case AgentMessage.extension: {
        // OpenSSH's `session-bind@openssh.com` and others: acknowledged without restricting keys.
        const name = new SshReader(message, 1).utf8();
        return name === 'session-bind@openssh.com' ? success : undefined;
      }
      default:
        return undefined;
    }
  }

  #add(held: HeldKey): void {
    this.#keys = this.#keys.filter((k) => !sameBytes(k.blob, held.blob));
    this.#keys.push(held);
  }

  #find(blob: Uint8Array): HeldKey | undefined {
    return this.#live().find((k) => sameBytes(k.blob, blob));
  }

  #held(constraints: KeyConstraints): Pick<HeldKey, 'expiresAt' | 'confirm'> {
    return {
      ...(constraints.lifetime !== undefined && { expiresAt: this.#now() + constraints.lifetime * 1000 }),
      ...(constraints.confirm && { confirm: true }),
    };
  }

  /** The keys whose lifetime has not run out; expired ones are forgotten for good. */
  #live(): HeldKey[] {
    const now = this.#now();
    if (this.#keys.some((k) => k.expiresAt !== undefined && k.expiresAt <= now)) {
      this.#keys = this.#keys.filter((k) => k.expiresAt === undefined || k.expiresAt > now);
    }
    return this.#keys;
  }
}

/** draft-miller-ssh-agent §3.6.1: the flags choose the RSA hash; other keys have one algorithm. */
function signingAlgorithm(keyType: KeyType, flags: number): PublicKeyAlgorithmName {
  if (keyType !== 'ssh-rsa') return keyType;
  if (flags & SignFlags.rsaSha2_512) return 'rsa-sha2-512';
  if (flags & SignFlags.rsaSha2_256) return 'rsa-sha2-256';
  return 'ssh-rsa';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
