/**
 * Checks trace events for secrets: each known secret in every encoding it could be printed in
 * (text, hex, base64, base64url, raw bytes as latin1), plus any long hex or base64 run that is not
 * a public key fingerprint (`SHA256:...`), and any field that is not a plain value.
 */
import type { TraceEvent } from '../../lib/trace/trace-event.js';

/** A secret and its name (for the failure message). */
export interface Secret {
  name: string;
  value: string | Uint8Array;
}

function encodings(value: string | Uint8Array): string[] {
  if (typeof value === 'string') return [value];
  const buffer = Buffer.from(value);
  const base64 = buffer.toString('base64');
  return [
    buffer.toString('hex'),
    buffer.toString('hex').toUpperCase(),
    base64,
    base64.replace(/=+$/, ''),
    buffer.toString('base64url'),
    buffer.toString('latin1'),
  ];
}

const fingerprint = /SHA256:[A-Za-z0-9+/]{43}/g;
const longHex = /[0-9a-fA-F]{32,}/;
const longBase64 = /[A-Za-z0-9+/]{40,}/;

/** Why `events` leak, one line per finding; empty when they are clean. */
export function findLeaks(events: readonly TraceEvent[], secrets: readonly Secret[]): string[] {
  const leaks: string[] = [];
  for (const event of events) {
    const text = JSON.stringify(event);
    for (const [field, value] of Object.entries(event)) {
      const plain =
        value === undefined ||
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean' ||
        (Array.isArray(value) && value.every((v) => typeof v === 'string'));
      if (!plain) leaks.push(`field ${field} of "${event.message}" is not a plain value`);
    }
    for (const secret of secrets) {
      for (const encoded of encodings(secret.value)) {
        if (encoded.length >= 6 && text.includes(encoded)) leaks.push(`${secret.name} in "${event.message}"`);
      }
    }
    const withoutFingerprints = text.replace(fingerprint, 'SHA256:<fingerprint>');
    const hex = withoutFingerprints.match(longHex);
    if (hex) leaks.push(`long hex run ${hex[0]} in "${event.message}"`);
    const base64 = withoutFingerprints.match(longBase64);
    if (base64) leaks.push(`long base64 run ${base64[0]} in "${event.message}"`);
  }
  return leaks;
}

/** Every base64 line of PEM/OpenSSH armoured text (each is a run of key bytes). */
export function armouredLines(text: string): Secret[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= 20 && !line.startsWith('-----'))
    .map((line, i) => ({ name: `armoured private key line ${i}`, value: line }));
}

/** The private components of a JWK export (d, p, q, dp, dq, qi), raw. */
export function jwkPrivateParts(jwkText: string): Secret[] {
  const jwk = JSON.parse(jwkText) as Record<string, string>;
  return ['d', 'p', 'q', 'dp', 'dq', 'qi']
    .filter((k) => typeof jwk[k] === 'string')
    .map((k) => ({ name: `private key component ${k}`, value: new Uint8Array(Buffer.from(jwk[k]!, 'base64url')) }));
}
