/**
 * Keys as ADD_IDENTITY carries them (draft-miller-ssh-agent §3.2, §4.2, PROTOCOL.certkeys) and the
 * constraints of ADD_ID_CONSTRAINED (§3.2.7): every key type round-trips plain and certified,
 * constraints round-trip, and truncated or garbage input ends in an SshError, never anything else.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SshReader, SshWriter } from '../../lib/codec/wire.js';
import { SshError } from '../../lib/errors.js';
import { signCertificate } from '../../lib/keys/certificate.js';
import { readConstraints, readIdentity, writeConstraints, writeIdentity } from '../../lib/agent/identity-fields.js';
import { keyTypes, testKeys } from '../auth/test-keys.js';

function encoded(write: (w: SshWriter) => void): Uint8Array {
  const w = new SshWriter(256);
  write(w);
  return w.toBytes().slice();
}

describe('agent identity fields', () => {
  it('round-trip every key type, plain and with a certificate', async () => {
    const keys = await testKeys();
    for (const type of keyTypes) {
      const key = keys[type];
      const certificate = await signCertificate({ publicKey: key, caKey: keys['ssh-ed25519'], keyId: `id-${type}` });
      for (const cert of [undefined, certificate]) {
        const read = readIdentity(new SshReader(encoded((w) => writeIdentity(w, { key, certificate: cert, comment: `c ${type}` }))));
        expect(read.comment).toBe(`c ${type}`);
        expect(read.key.equals(key)).toBe(true);
        expect(read.key.material).toEqual(key.material);
        expect(read.certificate?.blob).toEqual(cert?.blob);
      }
    }
  });

  it('round-trip constraints and refuse unknown ones by name or number', () => {
    const bytes = encoded((w) => expect(writeConstraints(w, { lifetime: 3600, confirm: true })).toBe(true));
    expect(readConstraints(new SshReader(bytes))).toEqual({ lifetime: 3600, confirm: true });
    expect(encoded((w) => expect(writeConstraints(w, {})).toBe(false))).toHaveLength(0);
    expect(() => readConstraints(new SshReader(Uint8Array.of(7)))).toThrow(/Unknown key constraint 7/);
    const extension = encoded((w) => w.byte(255).string('restrict-destination-v00@openssh.com').string(''));
    expect(() => readConstraints(new SshReader(extension))).toThrow(/Unsupported key constraint extension restrict-destination-v00@openssh.com/);
    expect(() => encoded((w) => writeConstraints(w, { lifetime: -1 }))).toThrow(/Key lifetime -1/);
  });

  it('end truncated, corrupted or random input in an SshError', async () => {
    const keys = await testKeys();
    const certificate = await signCertificate({ publicKey: keys['ssh-rsa'], caKey: keys['ssh-ed25519'] });
    const valid = encoded((w) => writeIdentity(w, { key: keys['ssh-rsa'], certificate, comment: 'x' }));
    const expectSshError = (read: () => unknown): void => {
      try {
        read();
      } catch (error) {
        expect(error).toBeInstanceOf(SshError);
      }
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.boolean(), (at, value, truncate) => {
        const bytes = truncate ? valid.subarray(0, at) : Uint8Array.from(valid, (b, i) => (i === at ? value : b));
        expectSshError(() => readIdentity(new SshReader(bytes)));
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        expectSshError(() => readIdentity(new SshReader(bytes)));
        expectSshError(() => readConstraints(new SshReader(bytes)));
      }),
      { numRuns: 400 },
    );
    expect(() => readIdentity(new SshReader(valid.subarray(0, 40)))).toThrow(SshError);
  });
});
