/**
 * The ssh-agent protocol (draft-miller-ssh-agent), sans I/O: message numbers, the encoding of
 * each request and reply, and the framer that cuts a byte stream into `uint32 length, byte type,
 * contents` messages with a bound on their size. Client, server and forwarding build on this.
 */
import { AgentError } from './agent-error.js';
import { SshReader, SshWriter } from '../codec/wire.js';

/** draft-miller-ssh-agent §6.1: message numbers. */
export const AgentMessage = {
  failure: 5,
  success: 6,
  requestIdentities: 11,
  identitiesAnswer: 12,
  signRequest: 13,
  signResponse: 14,
  addIdentity: 17,
  removeIdentity: 18,
  removeAllIdentities: 19,
  lock: 22,
  unlock: 23,
  addIdConstrained: 25,
  extension: 27,
  extensionFailure: 28,
} as const;

/** draft-miller-ssh-agent §3.6.1: signature flags of a sign request. */
export const SignFlags = { rsaSha2_256: 2, rsaSha2_512: 4 } as const;

/** OpenSSH's bound on one agent message (256 KiB); longer frames are refused, not buffered. */
export const maxAgentMessageLength = 256 * 1024;

/** The most identities an answer may list before we call it hostile. */
const maxIdentities = 4096;

/** draft-miller-ssh-agent §3: one framed message, type byte first. */
export function frameAgentMessage(type: number, contents: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new SshWriter(contents.length + 5);
  w.uint32(contents.length + 1).byte(type).raw(contents);
  return w.toBytes().slice();
}

/** Splits an agent byte stream into messages (type byte first), refusing frames over the bound. */
export class AgentFramer {
  #buffer = new Uint8Array(0);
  readonly #maxLength: number;

  constructor(maxLength = maxAgentMessageLength) {
    this.#maxLength = maxLength;
  }

  /** Feeds bytes; returns every complete message. @throws AgentError for an empty or oversized frame */
  push(bytes: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    const out: Uint8Array[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const length = new DataView(joined.buffer, joined.byteOffset + at).getUint32(0);
      if (length === 0 || length > this.#maxLength) {
        throw new AgentError(`Agent message of ${length} bytes is outside 1..${this.#maxLength}`);
      }
      if (joined.length - at - 4 < length) break;
      out.push(joined.slice(at + 4, at + 4 + length));
      at += 4 + length;
    }
    this.#buffer = joined.slice(at);
    return out;
  }

  /** True when a message was cut off by the end of the stream. */
  get hasPartial(): boolean {
    return this.#buffer.length > 0;
  }
}

/** One identity as the agent lists it: the key (or certificate) blob and its comment. */
export interface AgentIdentityBlob {
  readonly blob: Uint8Array;
  readonly comment: string;
}

/** draft-miller-ssh-agent §3.5 */
export function encodeIdentitiesAnswer(identities: readonly AgentIdentityBlob[]): Uint8Array {
  const w = new SshWriter(256);
  w.uint32(identities.length);
  for (const id of identities) w.string(id.blob).string(id.comment);
  return frameAgentMessage(AgentMessage.identitiesAnswer, w.toBytes());
}

/** draft-miller-ssh-agent §3.5 @throws AgentError for a malformed answer */
export function decodeIdentitiesAnswer(message: Uint8Array): AgentIdentityBlob[] {
  return decodeWith(message, AgentMessage.identitiesAnswer, 'identities answer', (r) => {
    const count = r.uint32();
    if (count > maxIdentities) throw new AgentError(`Agent lists ${count} identities, more than ${maxIdentities}`);
    const identities: AgentIdentityBlob[] = [];
    for (let i = 0; i < count; i++) identities.push({ blob: r.string().slice(), comment: r.utf8() });
    return identities;
  });
}

/** draft-miller-ssh-agent §3.6 */
export function encodeSignRequest(request: { blob: Uint8Array; data: Uint8Array; flags: number }): Uint8Array {
  const w = new SshWriter(request.blob.length + request.data.length + 16);
  w.string(request.blob).string(request.data).uint32(request.flags);
  return frameAgentMessage(AgentMessage.signRequest, w.toBytes());
}

/** draft-miller-ssh-agent §3.6 (the server side) */
export function decodeSignRequest(message: Uint8Array): { blob: Uint8Array; data: Uint8Array; flags: number } {
  return decodeWith(message, AgentMessage.signRequest, 'sign request', (r) => ({ blob: r.string(), data: r.string(), flags: r.uint32() }));
}

/** draft-miller-ssh-agent §3.6 */
export function encodeSignResponse(signature: Uint8Array): Uint8Array {
  return frameAgentMessage(AgentMessage.signResponse, new SshWriter(signature.length + 4).string(signature).toBytes());
}

/** draft-miller-ssh-agent §3.6 @throws AgentError for a malformed response */
export function decodeSignResponse(message: Uint8Array): Uint8Array {
  return decodeWith(message, AgentMessage.signResponse, 'sign response', (r) => r.string().slice());
}

/** draft-miller-ssh-agent §3.4 / §3.7: a request whose only field is one string (remove, lock, unlock). */
export function encodeStringRequest(type: number, value: Uint8Array | string): Uint8Array {
  return frameAgentMessage(type, new SshWriter(64).string(value).toBytes());
}

/** Reads a request of one string field. */
export function decodeStringRequest(message: Uint8Array, type: number, what: string): Uint8Array {
  return decodeWith(message, type, what, (r) => r.string());
}

/**
 * Decodes `message` (type byte first) as `type` with `read`, which must consume it all.
 * @throws AgentError naming `what` for a wrong type, a short or an over-long message
 */
export function decodeWith<T>(message: Uint8Array, type: number, what: string, read: (r: SshReader) => T): T {
  if (message[0] !== type) {
    const got = message[0] === AgentMessage.failure ? 'SSH_AGENT_FAILURE' : `message ${message[0]}`;
    throw new AgentError(`Agent answered ${got} where a ${what} (${type}) was expected`);
  }
  const r = new SshReader(message, 1);
  r.context = `agent ${what}`;
  try {
    const value = read(r);
    r.end();
    return value;
  } catch (cause) {
    if (cause instanceof AgentError) throw cause;
    throw new AgentError(`Malformed ${(cause as Error).message}`, { cause });
  }
}
