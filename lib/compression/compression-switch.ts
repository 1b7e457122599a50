/**
 * When compression runs in one direction: the method prepared with the next keys takes over at
 * NEWKEYS with a fresh zlib context (RFC 4253 §6.2: initialized after each key exchange, as
 * OpenSSH's packet.c does on every NEWKEYS), and `zlib@openssh.com` waits until authentication
 * succeeded (OpenSSH PROTOCOL §2), then also restarts at each later NEWKEYS. Not the bytes
 * themselves: those are `payload-compression.ts`.
 */
import { compressionStart } from './names.js';
import { requireZlib } from './zlib-engine.js';

/** Anything the switch starts and stops: a PayloadCompressor or a PayloadDecompressor. */
export interface CompressionContext {
  destroy(): void;
}

/** The compression state of one direction of one transport. */
export class CompressionSwitch<T extends CompressionContext> {
  readonly #create: () => T;
  #name = 'none';
  #next = 'none';
  #authenticated = false;
  #active: T | undefined;

  /** @param create - builds a fresh context (zlib stream) whenever compression (re)starts */
  constructor(create: () => T) {
    this.#create = create;
  }

  /** The method negotiated for the keys in force (it may not have started yet). */
  get name(): string {
    return this.#name;
  }

  /** The running context, or undefined while payloads pass uncompressed. */
  get active(): T | undefined {
    return this.#active;
  }

  /**
   * RFC 4253 §7.3: the method that takes effect with the next NEWKEYS in this direction.
   * @throws SshError when it needs zlib and this runtime has none (before NEWKEYS is sent)
   */
  prepare(name: string): void {
    if (compressionStart(name) !== 'never') requireZlib(name);
    this.#next = name;
  }

  /**
   * RFC 4253 §6.2: NEWKEYS passed; the prepared method replaces the old one, with a new context.
   * @returns the context now running, or undefined
   */
  switchKeys(): T | undefined {
    this.#active?.destroy();
    this.#active = undefined;
    this.#name = this.#next;
    this.#next = 'none';
    const start = compressionStart(this.#name);
    if (start === 'newKeys' || (start === 'authenticated' && this.#authenticated)) this.#active = this.#create();
    return this.#active;
  }

  /**
   * OpenSSH PROTOCOL §2: user authentication succeeded (server: USERAUTH_SUCCESS sent; client:
   * received). Starts delayed compression now, and at every later NEWKEYS.
   * @returns the context now running, or undefined
   */
  authenticationSucceeded(): T | undefined {
    this.#authenticated = true;
    if (this.#active === undefined && compressionStart(this.#name) === 'authenticated') this.#active = this.#create();
    return this.#active;
  }

  /** Frees the running context. */
  destroy(): void {
    this.#active?.destroy();
    this.#active = undefined;
  }
}
