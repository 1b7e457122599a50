/**
 * Session reconnection tokens (notes §2.3.5): an HMAC, with the new connection's negotiated MAC
 * algorithm and directional integrity key (RFC 4253 §7.2 letter E for the client's token, F for
 * the server's), over old session id || new session id. Proves knowledge of the old session id
 * without revealing it, and binds the proof to the new connection.
 */
import { SshError } from '../../errors.js';
import { macAlgorithms } from '../../cipher/registry.js';
import { constantTimeEqual } from '../../codec/constant-time.js';
import { kexBackend, type KexHashName } from '../../kex/backend.js';

/** What a token is computed with. */
export interface TokenKey {
  /** Negotiated MAC wire name of the token's direction on the new connection. */
  readonly mac: string | undefined;
  /** That direction's integrity key (E or F) of the new connection. */
  readonly key: Uint8Array;
}

/**
 * Notes §2.3.5: HMAC(key, previousSessionId || newSessionId).
 * @throws SshError when the connection negotiated no MAC (nothing to sign with)
 */
export function reconnectToken(key: TokenKey, previousSessionId: Uint8Array, newSessionId: Uint8Array): Uint8Array {
  const digest = key.mac ? macAlgorithms.get(key.mac)?.digest : undefined;
  if (!digest) throw new SshError(`Cannot compute a reconnect token with MAC ${key.mac ?? 'none'}: the session is not encrypted`);
  return kexBackend().hmac(digest as KexHashName, key.key, previousSessionId, newSessionId);
}

/** Notes §2.3.5: whether `token` is the token for these session ids, compared in constant time. */
export function verifyReconnectToken(
  key: TokenKey,
  sessionIds: { previous: Uint8Array; current: Uint8Array },
  token: Uint8Array,
): boolean {
  let expected: Uint8Array;
  try {
    expected = reconnectToken(key, sessionIds.previous, sessionIds.current);
  } catch {
    return false;
  }
  return constantTimeEqual(expected, token);
}
