import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { reconnectToken, verifyReconnectToken } from '../../../lib/transport/reconnect/tokens.js';

const previous = new Uint8Array(32).fill(1);
const current = new Uint8Array(32).fill(2);
const key = new Uint8Array(64).fill(7);

describe('reconnect tokens', () => {
  it.each([
    ['hmac-sha2-256', 'sha256'],
    ['hmac-sha2-512-etm@openssh.com', 'sha512'],
  ])('are HMAC-%s with the integrity key over old session id || new session id', (mac, digest) => {
    const expected = createHmac(digest, key).update(Buffer.concat([previous, current])).digest();
    expect(Buffer.from(reconnectToken({ mac, key }, previous, current))).toEqual(expected);
  });

  it('verify only with the same key, session ids and order', () => {
    const k = { mac: 'hmac-sha2-256', key };
    const token = reconnectToken(k, previous, current);
    expect(verifyReconnectToken(k, { previous, current }, token)).toBe(true);
    expect(verifyReconnectToken(k, { previous: current, current: previous }, token)).toBe(false);
    expect(verifyReconnectToken({ mac: 'hmac-sha2-256', key: key.slice(1) }, { previous, current }, token)).toBe(false);
    expect(verifyReconnectToken(k, { previous, current }, token.slice(1))).toBe(false);
  });

  it('cannot be made without a MAC', () => {
    expect(() => reconnectToken({ mac: 'none', key }, previous, current)).toThrow(/not encrypted/);
    expect(verifyReconnectToken({ mac: undefined, key }, { previous, current }, new Uint8Array(32))).toBe(false);
  });
});
