/**
 * Error normalisation for the key parsers: whatever a parser trips over (a short SSH string, bad
 * base64, a DER decoder error) surfaces as one KeyError naming the structure expected.
 */
import { KeyError } from '../../errors.js';
import { base64DecodeOrUndefined } from '../encoding.js';

/** Runs `parse`, rethrowing any non-KeyError failure as `Invalid <expected>: <reason>`. */
export function parseAs<T>(expected: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (cause instanceof KeyError) throw cause;
    throw new KeyError(`Invalid ${expected}: ${(cause as Error).message}`, { cause });
  }
}

/** Strict base64 decoding (lenient decoders skip bad characters, which would hide corruption). */
export function decodeBase64(text: string, expected: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(clean) ? base64DecodeOrUndefined(clean) : undefined;
  if (bytes === undefined) throw new KeyError(`Invalid ${expected}: not valid base64`);
  return bytes;
}
