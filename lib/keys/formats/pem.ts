/**
 * PEM armor (RFC 7468) with the RFC 1421 header lines OpenSSL still writes, and the legacy
 * "traditional" PEM encryption (`Proc-Type: 4,ENCRYPTED` + `DEK-Info`) whose key is OpenSSL's
 * EVP_BytesToKey MD5 chain. It owns text framing and that cipher layer only; the DER inside is
 * parsed by the format modules.
 */
import { KeyError } from '../../errors.js';
import { utf8Encode } from '../../codec/wire.js';
import { base64Encode, base64DecodeOrUndefined, hexDecode, hexEncode } from '../encoding.js';
import { keySuite, type KeyCipherName } from '../suite.js';

/** One `-----BEGIN label-----` block. */
export interface PemBlock {
  label: string;
  /** RFC 1421 header lines (`Proc-Type`, `DEK-Info`, ...), names as written. */
  headers: Map<string, string>;
  body: Uint8Array;
}

const beginPattern = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when `text` contains a PEM BEGIN line. */
export function isPem(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/** RFC 7468 §2: every PEM block in `text`, in order; text between blocks is ignored. */
export function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  beginPattern.lastIndex = 0;
  for (let match = beginPattern.exec(text); match; match = beginPattern.exec(text)) {
    const label = match[1]!;
    const endLine = `-----END ${label}-----`;
    const end = text.indexOf(endLine, match.index);
    if (end < 0) throw new KeyError(`PEM block "${label}" has no "${endLine}" line`);
    const lines = text.slice(match.index + match[0].length, end).split(/\r?\n/);
    blocks.push({ label, ...parseBody(label, lines) });
    beginPattern.lastIndex = end + endLine.length;
  }
  return blocks;
}

function parseBody(label: string, lines: string[]): { headers: Map<string, string>; body: Uint8Array } {
  const headers = new Map<string, string>();
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (i < lines.length && lines[i]!.includes(':')) {
    let last = '';
    for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
      const line = lines[i]!;
      if (/^\s/.test(line) && last) {
        headers.set(last, `${headers.get(last)!}${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon < 0) throw new KeyError(`PEM block "${label}" has a malformed header line`);
      last = line.slice(0, colon).trim();
      headers.set(last, line.slice(colon + 1).trim());
    }
  }
  const base64 = lines.slice(i).join('').replace(/\s+/g, '');
  const body = base64Pattern.test(base64) ? base64DecodeOrUndefined(base64) : undefined;
  if (body === undefined) throw new KeyError(`PEM block "${label}" does not contain valid base64`);
  return { headers, body };
}

/** Options of `writePem`. */
export interface WritePemOptions {
  /** RFC 1421 header lines, written in order before a blank line. */
  headers?: ReadonlyMap<string, string>;
  /** Base64 characters a line: 64 by RFC 7468; ssh-keygen writes 70 for OpenSSH keys. */
  lineLength?: number;
}

/** RFC 7468 §2: armors `body` under `label`, with a trailing newline. */
export function writePem(label: string, body: Uint8Array, options: WritePemOptions = {}): string {
  const { headers, lineLength = 64 } = options;
  const base64 = base64Encode(body);
  const lines = [`-----BEGIN ${label}-----`];
  if (headers && headers.size > 0) {
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    lines.push('');
  }
  for (let i = 0; i < base64.length; i += lineLength) lines.push(base64.slice(i, i + lineLength));
  lines.push(`-----END ${label}-----`, '');
  return lines.join('\n');
}

/** The `DEK-Info` ciphers OpenSSL writes for traditional PEM keys: key and IV sizes. */
const legacyCiphers: Record<string, { name: KeyCipherName; keyLength: number; ivLength: number }> = {
  'AES-128-CBC': { name: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  'AES-192-CBC': { name: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  'AES-256-CBC': { name: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  'DES-EDE3-CBC': { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};

/** OpenSSL EVP_BytesToKey with MD5 and one iteration: D_i = MD5(D_{i-1} || passphrase || salt). */
export function bytesToKey(passphrase: Uint8Array, salt: Uint8Array, keyLength: number): Uint8Array {
  const out = new Uint8Array(keyLength);
  let previous: Uint8Array = new Uint8Array(0);
  for (let at = 0; at < keyLength; at += previous.length) {
    previous = keySuite().hash('md5', previous, passphrase, salt);
    out.set(previous.subarray(0, Math.min(previous.length, keyLength - at)), at);
  }
  return out;
}

/** True when the block is traditionally encrypted (RFC 1421 §4.6.1.1 `Proc-Type: 4,ENCRYPTED`). */
export function isLegacyEncrypted(block: PemBlock): boolean {
  return /ENCRYPTED/.test(block.headers.get('Proc-Type') ?? '');
}

/**
 * Decrypts a traditionally encrypted PEM body. A wrong passphrase shows up as bad padding or as
 * plaintext that is not one DER SEQUENCE filling the whole buffer.
 */
export function decryptLegacyPem(block: PemBlock, passphrase: string | undefined): Uint8Array {
  const what = `encrypted "${block.label}" PEM key`;
  if (passphrase === undefined) throw new KeyError(`A passphrase is required to decrypt the ${what}`);
  const info = (block.headers.get('DEK-Info') ?? '').split(',');
  const cipher = legacyCiphers[(info[0] ?? '').trim().toUpperCase()];
  if (!cipher) throw new KeyError(`Unsupported PEM encryption "${info[0] ?? ''}" (expected AES-128/192/256-CBC or DES-EDE3-CBC)`);
  const ivText = (info[1] ?? '').trim();
  const iv = /^[0-9a-fA-F]*$/.test(ivText) && ivText.length % 2 === 0 ? hexDecode(ivText, 'PEM DEK-Info IV') : new Uint8Array(0);
  if (iv.length !== cipher.ivLength) throw new KeyError(`PEM DEK-Info IV must be ${cipher.ivLength} bytes, got ${iv.length}`);
  if (block.body.length === 0 || block.body.length % cipher.ivLength !== 0) {
    throw new KeyError(`Invalid ${what}: ${block.body.length} bytes is not a whole number of cipher blocks`);
  }
  const key = bytesToKey(utf8Encode(passphrase), iv.subarray(0, 8), cipher.keyLength);
  let plain: Uint8Array;
  try {
    plain = keySuite().cipher({ name: cipher.name, key, iv, data: block.body, decrypt: true, padding: true });
  } catch (cause) {
    if (cause instanceof KeyError) throw cause;
    throw new KeyError(`Incorrect passphrase for the ${what}`);
  }
  if (!isWholeDerSequence(plain)) throw new KeyError(`Incorrect passphrase for the ${what}`);
  return plain;
}

/** Encrypts a DER body as OpenSSL's traditional PEM with AES-256-CBC. */
export function encryptLegacyPem(label: string, der: Uint8Array, passphrase: string): string {
  const suite = keySuite();
  const iv = suite.randomBytes(16);
  const key = bytesToKey(utf8Encode(passphrase), iv.subarray(0, 8), 32);
  const body = suite.cipher({ name: 'aes-256-cbc', key, iv, data: der, decrypt: false, padding: true });
  const headers = new Map([
    ['Proc-Type', '4,ENCRYPTED'],
    ['DEK-Info', `AES-256-CBC,${hexEncode(iv).toUpperCase()}`],
  ]);
  return writePem(label, body, { headers });
}

/** True when `bytes` is exactly one DER SEQUENCE (the shape of every key structure). */
export function isWholeDerSequence(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes[0] !== 0x30) return false;
  let length = bytes[1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || bytes.length < 2 + count) return false;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i]!;
    header += count;
  }
  return header + length === bytes.length;
}
