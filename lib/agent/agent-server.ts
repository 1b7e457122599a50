/**
 * An ssh-agent serving keys held in memory (draft-miller-ssh-agent), over any byte stream or a
 * Unix socket: list, sign (honouring the RSA SHA-2 flags), add, remove, lock and unlock. For tests
 * and embedded use; `ssh`, `ssh-add` and our AgentClient all talk to it. Malformed requests get
 * SSH_AGENT_FAILURE; a frame over the size bound ends that connection.
 */
import type { Duplex } from '../transport/transport.js';
import { SshReader } from '../codec/wire.js';
import { KeyPair, type KeyType, type PublicKeyAlgorithmName } from '../keys/key-pair.js';
import { isCertifiedKey, keyOf, type MaybeCertifiedKey } from '../keys/certified-key.js';
import { readPrivateFields } from '../keys/formats/openssh.js';
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

  constructor(keys: readonly MaybeCertifiedKey[] = []) {
    for (const key of keys) this.addKey(key);
  }

  /** Holds `key` (with its certificate, listed as a second identity, when given). */
  addKey(key: MaybeCertifiedKey, comment?: string): void {
    const pair = keyOf(key);
    if (!pair.hasPrivateKey) throw new TypeError(`An agent key needs its private half (${pair.keyType})`);
    this.#add({ key: pair, blob: pair.publicKeyBlob, comment: comment ?? pair.comment });
    if (isCertifiedKey(key)) this.#add({ key: pair, blob: key.certificate.blob, comment: comment ?? pair.comment });
  }

  /** The identities held, in the order they are listed. */
  get keys(): readonly { publicKey: KeyPair; blob: Uint8Array; comment: string }[] {
    return this.#keys.map((k) => ({ publicKey: k.key, blob: k.blob, comment: k.comment }));
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
        return encodeIdentitiesAnswer(locked ? [] : this.#keys.map(({ blob, comment }) => ({ blob, comment })));
      case AgentMessage.signRequest: {
        const request = decodeSignRequest(message);
        const held = locked ? undefined : this.#find(request.blob);
        if (!held) return undefined;
        const algorithm = signingAlgorithm(held.key.keyType, request.flags);
        return encodeSignResponse(await held.key.sign(algorithm, request.data));
      }
      case AgentMessage.addIdentity: {
        if (locked) return undefined;
        const { key, comment } = decodeWith(message, type, 'add identity', (r) => {
          const keyType = r.utf8() as KeyType;
          const material = readPrivateFields(keyType, r);
          return { key: new KeyPair({ material }), comment: r.utf8() };
        });
        this.addKey(key, comment);
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
    return this.#keys.find((k) => sameBytes(k.blob, blob));
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
