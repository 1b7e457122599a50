/**
 * The exchange hash H (RFC 4253 §8, RFC 5656 §4, RFC 8731 §3, RFC 8268) as a pure function of the
 * values both sides saw. It does not sign or verify H (host keys do) and does not encode K (the kex
 * method hands it over already encoded, so hybrid methods whose K is a string fit unchanged).
 */
import { SshWriter } from '../codec/wire.js';
import { kexBackend, type KexHashName } from './backend.js';
import type { PublicValueEncoding } from './types.js';

/** The fields of H, in RFC vocabulary. */
export interface ExchangeHashInput {
  /** The hash of the key exchange method. */
  readonly hash: KexHashName;
  /** V_C: the client identification string without CR LF. */
  readonly clientVersion: string;
  /** V_S: the server identification string without CR LF. */
  readonly serverVersion: string;
  /** I_C: the client's KEXINIT payload, message type byte included. */
  readonly clientKexInit: Uint8Array;
  /** I_S: the server's KEXINIT payload, message type byte included. */
  readonly serverKexInit: Uint8Array;
  /** K_S: the server host key blob. */
  readonly hostKeyBlob: Uint8Array;
  /** e / Q_C as raw bytes (mpint magnitude or string contents). */
  readonly clientPublic: Uint8Array;
  /** f / Q_S as raw bytes (mpint magnitude or string contents). */
  readonly serverPublic: Uint8Array;
  /** Whether e/f enter H as mpints (classic DH) or strings (ECDH, X25519, hybrids). */
  readonly publicEncoding: PublicValueEncoding;
  /** K, already encoded with its length prefix. */
  readonly sharedSecret: Uint8Array;
}

/**
 * RFC 4253 §8: H = HASH(V_C || V_S || I_C || I_S || K_S || e || f || K).
 * @param input - the exchange values
 * @returns H, as long as the method's hash output
 */
export function computeExchangeHash(input: ExchangeHashInput): Uint8Array {
  const w = new SshWriter(
    1024 + input.clientKexInit.length + input.serverKexInit.length + input.clientPublic.length + input.serverPublic.length,
  );
  w.string(input.clientVersion)
    .string(input.serverVersion)
    .string(input.clientKexInit)
    .string(input.serverKexInit)
    .string(input.hostKeyBlob);
  if (input.publicEncoding === 'mpint') {
    w.mpint(input.clientPublic).mpint(input.serverPublic);
  } else {
    w.string(input.clientPublic).string(input.serverPublic);
  }
  w.raw(input.sharedSecret);
  return kexBackend().hash(input.hash, w.toBytes());
}
