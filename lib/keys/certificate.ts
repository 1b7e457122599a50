/**
 * OpenSSH certificates (PROTOCOL.certkeys, `*-cert-v01@openssh.com`): decoding a certificate blob
 * into its fields, the algorithm names that carry them, checking the CA signature, type and
 * validity window, and signing new ones. Certificates keep their original bytes, so exporting one
 * gives back exactly what was imported. Uses KeyPair only through its public methods.
 */
import { KeyError } from '../errors.js';
import { SshReader, SshWriter } from '../codec/wire.js';
import { KeyPair, algorithmsOfKeyType, type KeyType } from './key-pair.js';
import { fromBase64, toBase64 } from './formats/base64.js';

/** PROTOCOL.certkeys: the suffix every certificate key type and algorithm name carries. */
export const certificateSuffix = '-cert-v01@openssh.com';

/** PROTOCOL.certkeys: SSH_CERT_TYPE_USER (1) and SSH_CERT_TYPE_HOST (2). */
export type CertificateType = 'user' | 'host';

/** PROTOCOL.certkeys: `valid before` of a certificate that never expires. */
export const certificateForever = 0xffff_ffff_ffff_ffffn;

/** Signature algorithms a CA may sign with (SHA-1 `ssh-rsa` refused, as OpenSSH's CASignatureAlgorithms). */
const caSignatureAlgorithms = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
] as const;

/** True for a `*-cert-v01@openssh.com` key type or signature algorithm name. */
export function isCertificateAlgorithm(name: string): boolean {
  return name.endsWith(certificateSuffix);
}

/**
 * PROTOCOL.certkeys: the plain signature algorithm behind a certificate algorithm name
 * (`rsa-sha2-512-cert-v01@openssh.com` signs as `rsa-sha2-512`); other names are returned as is.
 */
export function plainAlgorithmOf(name: string): string {
  return isCertificateAlgorithm(name) ? name.slice(0, -certificateSuffix.length) : name;
}

/** PROTOCOL.certkeys: the certificate algorithm name for a plain signature algorithm. */
export function certificateAlgorithmOf(plainAlgorithm: string): string {
  return plainAlgorithm + certificateSuffix;
}

function certificateKeyType(keyType: KeyType): string {
  return keyType + certificateSuffix;
}

/** The fields of a certificate, as `signCertificate` takes them. */
export interface CertificateFields {
  /** The certified public key. */
  readonly publicKey: KeyPair;
  readonly serial: bigint;
  readonly type: CertificateType;
  readonly keyId: string;
  /** User names (user certificates) or host names (host certificates); empty means any. */
  readonly principals: readonly string[];
  /** Seconds since the epoch; the certificate is valid from this second on. */
  readonly validAfter: bigint;
  /** Seconds since the epoch; the certificate is valid before this second (`certificateForever` = no end). */
  readonly validBefore: bigint;
  /** Critical options (`force-command`, `source-address`): name to text value. */
  readonly criticalOptions: ReadonlyMap<string, string>;
  /** Extensions (`permit-pty`, ...): name to text value, usually empty. */
  readonly extensions: ReadonlyMap<string, string>;
}

/** A decoded OpenSSH certificate. `blob` holds its exact bytes. */
export class Certificate implements CertificateFields {
  /** The certificate key type, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly certificateType: string;
  readonly nonce: Uint8Array;
  readonly publicKey: KeyPair;
  readonly serial: bigint;
  readonly type: CertificateType;
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: ReadonlyMap<string, string>;
  readonly extensions: ReadonlyMap<string, string>;
  /** The CA's public key. */
  readonly signatureKey: KeyPair;
  /** The CA's signature blob over every byte before it. */
  readonly signature: Uint8Array;
  /** Free text after the base64 of a certificate line. */
  comment: string;
  readonly #blob: Uint8Array;
  readonly #signedLength: number;

  /** Decodes a certificate blob (the bytes behind the base64 of a `-cert.pub` line). */
  constructor(blob: Uint8Array, comment = '') {
    const bytes = blob.slice();
    this.#blob = bytes;
    this.comment = comment;
    const r = new SshReader(bytes);
    r.context = 'Certificate';
    try {
      this.certificateType = r.utf8();
      if (!isCertificateAlgorithm(this.certificateType)) throw new KeyError(`${this.certificateType.slice(0, 60)} is not a certificate type`);
      const keyType = this.certificateType.slice(0, -certificateSuffix.length);
      this.nonce = r.string();
      const keyStart = r.offset;
      readKeyFields(r, keyType);
      const plainBlob = new SshWriter(r.offset - keyStart + keyType.length + 8).string(keyType).raw(bytes.subarray(keyStart, r.offset));
      this.publicKey = KeyPair.fromPublicKeyBlob(plainBlob.toBytes().slice());
      this.serial = r.uint64();
      const type = r.uint32();
      if (type !== 1 && type !== 2) throw new KeyError(`Certificate type ${type} is neither user (1) nor host (2)`);
      this.type = type === 1 ? 'user' : 'host';
      this.keyId = r.utf8();
      this.principals = readStringList(r.string());
      this.validAfter = r.uint64();
      this.validBefore = r.uint64();
      this.criticalOptions = readOptions(r.string(), 'critical option');
      this.extensions = readOptions(r.string(), 'extension');
      r.string(); // reserved
      const signatureKeyBlob = r.string();
      this.#signedLength = r.offset;
      this.signature = r.string();
      r.end();
      const caType = new SshReader(signatureKeyBlob).utf8();
      if (isCertificateAlgorithm(caType)) throw new KeyError(`Certificate is signed by a certificate (${caType}), which is not allowed`);
      this.signatureKey = KeyPair.fromPublicKeyBlob(signatureKeyBlob);
    } catch (cause) {
      if (cause instanceof KeyError && cause.message.startsWith('Certificate')) throw cause;
      throw new KeyError(`Invalid certificate: ${(cause as Error).message}`, { cause });
    }
  }

  /** The exact certificate bytes, as imported or signed. */
  get blob(): Uint8Array {
    return this.#blob;
  }

  /** The signature algorithm names this certificate authenticates under, strongest first. */
  get algorithms(): string[] {
    return algorithmsOfKeyType(this.publicKey.keyType).map(certificateAlgorithmOf);
  }

  /** PROTOCOL.certkeys: the bytes the CA signed (everything before the signature). */
  get signedData(): Uint8Array {
    return this.#blob.subarray(0, this.#signedLength);
  }

  /** The `-cert.pub` line: `type base64 comment`. */
  toString(): string {
    const line = `${this.certificateType} ${toBase64(this.#blob)}`;
    return this.comment ? `${line} ${this.comment}` : line;
  }

  /** True when the CA's signature over the certificate verifies (SHA-1 RSA signatures refused). */
  async hasValidSignature(): Promise<boolean> {
    return await this.signatureKey.verify(this.signedData, this.signature, caSignatureAlgorithms);
  }
}

/** Options of `checkCertificate`. */
export interface CheckCertificateOptions {
  /** The type the certificate must have. */
  type: CertificateType;
  /** The current time; inject it to test validity windows (default: now). */
  now?: Date;
  /** When given, the certificate must list this principal (or list none). */
  principal?: string;
}

/**
 * Checks what the library can decide alone: the CA signature, the certificate type and the
 * validity window (and a principal when one is given). Trusting the CA is the caller's decision.
 * @throws KeyError naming the check that failed
 */
export async function checkCertificate(certificate: Certificate, options: CheckCertificateOptions): Promise<void> {
  if (certificate.type !== options.type) {
    throw new KeyError(`Certificate ${JSON.stringify(certificate.keyId)} is a ${certificate.type} certificate, expected ${options.type}`);
  }
  const now = BigInt(Math.floor((options.now ?? new Date()).getTime() / 1000));
  if (now < certificate.validAfter) {
    throw new KeyError(`Certificate ${JSON.stringify(certificate.keyId)} is not valid before ${formatTime(certificate.validAfter)}`);
  }
  if (now >= certificate.validBefore) {
    throw new KeyError(`Certificate ${JSON.stringify(certificate.keyId)} expired at ${formatTime(certificate.validBefore)}`);
  }
  if (options.principal !== undefined && certificate.principals.length > 0 && !certificate.principals.includes(options.principal)) {
    throw new KeyError(`Certificate ${JSON.stringify(certificate.keyId)} does not list principal ${JSON.stringify(options.principal)}`);
  }
  if (!(await certificate.hasValidSignature())) {
    throw new KeyError(`Certificate ${JSON.stringify(certificate.keyId)} has an invalid CA signature (${certificate.signatureKey.keyType})`);
  }
}

/**
 * Reads a certificate from a `-cert.pub` line (`type base64 [comment]`) or from its blob.
 * @throws KeyError for anything but a well-formed certificate, or one signed by a certificate
 * @example const cert = await importCertificate(readFileSync('id_ed25519-cert.pub', 'utf8'));
 */
export async function importCertificate(input: string | Uint8Array): Promise<Certificate> {
  if (typeof input !== 'string') return new Certificate(input);
  const fields = input.trim().split(/\s+/);
  if (fields.length < 2 || !isCertificateAlgorithm(fields[0]!)) {
    throw new KeyError(`Not an OpenSSH certificate line: expected "<type>${certificateSuffix} <base64> [comment]"`);
  }
  const bytes = fromBase64(fields[1]!, 'Certificate line');
  const certificate = new Certificate(bytes, fields.slice(2).join(' '));
  if (certificate.certificateType !== fields[0]) {
    throw new KeyError(`Certificate line names ${fields[0]} but holds ${certificate.certificateType}`);
  }
  return certificate;
}

/** Options of `signCertificate`: the fields plus the CA, all but the key and CA optional. */
export interface SignCertificateOptions extends Partial<Omit<CertificateFields, 'publicKey' | 'type'>> {
  /** The key to certify (its public half is used). */
  publicKey: KeyPair;
  /** The CA key pair, with its private key. */
  caKey: KeyPair;
  /** Default `user`. */
  type?: CertificateType;
  /** CA signature algorithm; default the CA key's strongest (`rsa-sha2-512` for RSA). */
  algorithm?: string;
  /** 32 random bytes by default; inject for reproducible certificates. */
  nonce?: Uint8Array;
  comment?: string;
}

/**
 * PROTOCOL.certkeys: signs a certificate for `publicKey` with `caKey`. Defaults: a user
 * certificate, serial 0, no principals (any), valid from the epoch forever, no options or extensions.
 * @throws KeyError when the CA has no private key or is itself a certificate
 * @example const cert = await signCertificate({ publicKey: userKey, caKey: ca, principals: ['alice'], validBefore: BigInt(Date.now() / 1000 + 3600 | 0) });
 */
export async function signCertificate(options: SignCertificateOptions): Promise<Certificate> {
  const { publicKey, caKey } = options;
  if (!caKey.hasPrivateKey) throw new KeyError(`Cannot sign a certificate with a ${caKey.keyType} CA that has no private key`);
  const keyBlob = publicKey.publicKeyBlob;
  const keyFields = new SshReader(keyBlob);
  keyFields.utf8();
  const w = new SshWriter(1024);
  w.string(certificateKeyType(publicKey.keyType));
  w.string(options.nonce ?? globalThis.crypto.getRandomValues(new Uint8Array(32)));
  w.raw(keyFields.rest());
  w.uint64(options.serial ?? 0n);
  w.uint32((options.type ?? 'user') === 'user' ? 1 : 2);
  w.string(options.keyId ?? '');
  w.string(writeStringList(options.principals ?? []));
  w.uint64(options.validAfter ?? 0n);
  w.uint64(options.validBefore ?? certificateForever);
  w.string(writeOptions(options.criticalOptions));
  w.string(writeOptions(options.extensions));
  w.string(new Uint8Array(0));
  w.string(caKey.publicKeyBlob);
  const algorithm = options.algorithm ?? caKey.algorithms[0]!;
  const signature = await caKey.sign(algorithm as Parameters<KeyPair['sign']>[0], w.toBytes().slice());
  w.string(signature);
  return new Certificate(w.toBytes(), options.comment ?? '');
}

/** PROTOCOL.certkeys: the key-specific fields between the nonce and the serial. */
function readKeyFields(r: SshReader, keyType: string): void {
  const fields = keyType === 'ssh-ed25519' ? 1 : keyType === 'ssh-rsa' || keyType.startsWith('ecdsa-sha2-') ? 2 : 0;
  if (fields === 0) throw new KeyError(`Unsupported certificate key type ${keyType.slice(0, 60)}${certificateSuffix}`);
  for (let i = 0; i < fields; i++) r.string();
}

function readStringList(bytes: Uint8Array): string[] {
  const r = new SshReader(bytes);
  r.context = 'Certificate principals';
  const list: string[] = [];
  while (r.remaining > 0) list.push(r.utf8());
  return list;
}

function writeStringList(list: readonly string[]): Uint8Array {
  const w = new SshWriter(64);
  for (const item of list) w.string(item);
  return w.toBytes().slice();
}

/**
 * PROTOCOL.certkeys: `string name, string data` pairs, names unique and sorted; data is empty
 * (a flag) or a string holding the value.
 */
function readOptions(bytes: Uint8Array, what: string): Map<string, string> {
  const r = new SshReader(bytes);
  r.context = `Certificate ${what}s`;
  const options = new Map<string, string>();
  let previous: string | undefined;
  while (r.remaining > 0) {
    const name = r.utf8();
    const data = r.string();
    if (previous !== undefined && name <= previous) throw new KeyError(`Certificate ${what} ${JSON.stringify(name)} is duplicated or out of order`);
    previous = name;
    let value = '';
    if (data.length > 0) {
      const inner = new SshReader(data);
      inner.context = `Certificate ${what} ${name}`;
      value = inner.utf8();
      inner.end();
    }
    options.set(name, value);
  }
  return options;
}

function writeOptions(options: ReadonlyMap<string, string> | undefined): Uint8Array {
  const w = new SshWriter(64);
  for (const name of [...(options?.keys() ?? [])].sort()) {
    const value = options!.get(name)!;
    w.string(name).string(value === '' ? new Uint8Array(0) : new SshWriter(value.length + 8).string(value).toBytes());
  }
  return w.toBytes().slice();
}

function formatTime(seconds: bigint): string {
  if (seconds >= 253402300800n) return `second ${seconds}`;
  return new Date(Number(seconds) * 1000).toISOString();
}
