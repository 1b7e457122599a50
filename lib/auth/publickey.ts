/**
 * The `publickey` method (RFC 4252 §7, RFC 8332 §3) and OpenSSH's `publickey-hostbound-v00`
 * (OpenSSH PROTOCOL §2.5): request fields, PK_OK, the exact data a signature covers and the choice
 * of signature algorithm. Signing and verifying belong to KeyPair; the flow belongs to client/server.
 */
import { ProtocolError } from '../errors.js';
import { message, string, utf8 } from '../codec/schema.js';
import { SshReader, SshWriter } from '../codec/wire.js';
import { MessageType } from '../codec/messages/transport.js';
import { algorithmsOfKeyType, type KeyType } from '../keys/key-pair.js';

/** RFC 4252 §7 method name. */
export const publicKeyMethod = 'publickey';

/** OpenSSH PROTOCOL §2.5: public key authentication bound to the server's host key. */
export const publicKeyHostboundMethod = 'publickey-hostbound-v00@openssh.com';

/** OpenSSH PROTOCOL §1.9: the EXT_INFO extension announcing `publickey-hostbound-v00` (value "0"). */
export const publicKeyHostboundExtension = 'publickey-hostbound@openssh.com';

/** RFC 8308 §3.1: the EXT_INFO extension listing the signature algorithms a server accepts. */
export const serverSigAlgsExtension = 'server-sig-algs';

/** RFC 4252 §7 */
export const UserauthPkOk = message(60, 'UserauthPkOk', { publicKeyAlgorithmName: utf8, publicKeyBlob: string });

/** The method-specific fields of a publickey USERAUTH_REQUEST. */
export interface PublicKeyFields {
  algorithm: string;
  publicKeyBlob: Uint8Array;
  /** Present exactly for `publickey-hostbound-v00@openssh.com`. */
  hostKeyBlob?: Uint8Array | undefined;
  /** Absent for a query (RFC 4252 §7 "without signature"). */
  signature?: Uint8Array | undefined;
}

/** True for both method names that carry public key authentication. */
export function isPublicKeyMethod(methodName: string): boolean {
  return methodName === publicKeyMethod || methodName === publicKeyHostboundMethod;
}

/** RFC 4252 §7 / OpenSSH PROTOCOL §2.5: encodes the fields after the method name. */
export function encodePublicKeyFields(methodName: string, fields: PublicKeyFields): Uint8Array {
  const w = new SshWriter(256);
  w.boolean(fields.signature !== undefined).string(fields.algorithm).string(fields.publicKeyBlob);
  if (methodName === publicKeyHostboundMethod) {
    if (!fields.hostKeyBlob) throw new ProtocolError(`${methodName} needs the server host key`);
    w.string(fields.hostKeyBlob);
  }
  if (fields.signature !== undefined) w.string(fields.signature);
  return w.toBytes();
}

/** RFC 4252 §7 / OpenSSH PROTOCOL §2.5: decodes the fields after the method name; rejects trailing bytes. */
export function decodePublicKeyFields(methodName: string, data: Uint8Array): PublicKeyFields {
  const r = new SshReader(data);
  r.context = `UserauthRequest(${methodName})`;
  const hasSignature = r.boolean();
  const algorithm = r.utf8();
  const publicKeyBlob = r.string();
  const hostKeyBlob = methodName === publicKeyHostboundMethod ? r.string() : undefined;
  const signature = hasSignature ? r.string() : undefined;
  r.end();
  return { algorithm, publicKeyBlob, hostKeyBlob, signature };
}

/** The inputs of `publicKeySignatureData`. */
export interface SignatureDataOptions {
  sessionId: Uint8Array;
  userName: string;
  serviceName: string;
  methodName: string;
  algorithm: string;
  publicKeyBlob: Uint8Array;
  hostKeyBlob?: Uint8Array | undefined;
}

/** RFC 4252 §7 (and OpenSSH PROTOCOL §2.5 for the host key): the bytes a user key signs. */
export function publicKeySignatureData(options: SignatureDataOptions): Uint8Array {
  const w = new SshWriter(512);
  w.string(options.sessionId)
    .byte(MessageType.UserauthRequest)
    .string(options.userName)
    .string(options.serviceName)
    .string(options.methodName)
    .boolean(true)
    .string(options.algorithm)
    .string(options.publicKeyBlob);
  if (options.methodName === publicKeyHostboundMethod) {
    if (!options.hostKeyBlob) throw new ProtocolError(`${options.methodName} needs the server host key`);
    w.string(options.hostKeyBlob);
  }
  return w.toBytes().slice();
}

/**
 * RFC 8332 §3.3 / RFC 8308 §3.1: the signature algorithms worth trying for a key, in order. Ours
 * (config) bound the choice; the server's `server-sig-algs`, when known, narrows it. A non-RSA key
 * keeps its only algorithm even if the server forgot to list it, as OpenSSH clients do.
 */
export function chooseSignatureAlgorithms(
  keyType: KeyType,
  ours: readonly string[],
  serverSigAlgs: readonly string[] | undefined,
): string[] {
  const usable = algorithmsOfKeyType(keyType).filter((a) => ours.includes(a));
  if (serverSigAlgs === undefined) return usable;
  const accepted = usable.filter((a) => serverSigAlgs.includes(a));
  if (accepted.length > 0) return accepted.slice(0, 1);
  return keyType === 'ssh-rsa' ? [] : usable.slice(0, 1);
}
