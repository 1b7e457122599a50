import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeExchangeHash, type ExchangeHashInput } from '../../lib/kex/exchange-hash.js';

/** An SSH string built by hand: uint32 big-endian length, then the bytes. */
function sshString(bytes: Uint8Array | string): Buffer {
  const body = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** An SSH mpint built by hand through BigInt, independent of the codec's writer. */
function sshMpint(magnitude: Uint8Array): Buffer {
  const value = BigInt('0x' + (Buffer.from(magnitude).toString('hex') || '0'));
  if (value === 0n) return Buffer.alloc(4);
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = '00' + hex;
  return sshString(Buffer.from(hex, 'hex'));
}

function reference(input: ExchangeHashInput): string {
  const publicField = input.publicEncoding === 'mpint' ? sshMpint : sshString;
  return createHash(input.hash)
    .update(
      Buffer.concat([
        sshString(input.clientVersion),
        sshString(input.serverVersion),
        sshString(input.clientKexInit),
        sshString(input.serverKexInit),
        sshString(input.hostKeyBlob),
        publicField(input.clientPublic),
        publicField(input.serverPublic),
        input.sharedSecret,
      ]),
    )
    .digest('hex');
}

function sampleInput(overrides: Partial<ExchangeHashInput>): ExchangeHashInput {
  return {
    hash: 'sha256',
    clientVersion: 'SSH-2.0-ssh_streams_0.1',
    serverVersion: 'SSH-2.0-OpenSSH_9.9',
    clientKexInit: Uint8Array.of(20, ...randomBytes(300)),
    serverKexInit: Uint8Array.of(20, ...randomBytes(280)),
    hostKeyBlob: randomBytes(51),
    clientPublic: randomBytes(32),
    serverPublic: randomBytes(32),
    publicEncoding: 'string',
    sharedSecret: sshMpint(randomBytes(32)),
    ...overrides,
  };
}

describe('computeExchangeHash', () => {
  it.each([
    { name: 'curve25519-sha256 shape', hash: 'sha256', publicEncoding: 'string', size: 32 },
    { name: 'ecdh-sha2-nistp384 shape', hash: 'sha384', publicEncoding: 'string', size: 97 },
    { name: 'diffie-hellman-group16-sha512 shape', hash: 'sha512', publicEncoding: 'mpint', size: 512 },
    { name: 'mlkem768x25519-sha256 shape', hash: 'sha256', publicEncoding: 'string', size: 1216 },
  ] as const)('matches a hand-built RFC 4253 §8 layout for the $name', ({ hash, publicEncoding, size }) => {
    const input = sampleInput({ hash, publicEncoding, clientPublic: randomBytes(size), serverPublic: randomBytes(size) });
    const h = computeExchangeHash(input);
    expect(h).toHaveLength(createHash(hash).digest().length);
    expect(Buffer.from(h).toString('hex')).toBe(reference(input));
  });

  it('encodes mpint public values with a leading zero when the top bit is set and strips leading zeros', () => {
    const e = Uint8Array.of(0, 0, 0x80, 1, 2);
    const f = Uint8Array.of(0x7f, 3);
    const input = sampleInput({ publicEncoding: 'mpint', clientPublic: e, serverPublic: f });
    expect(Buffer.from(computeExchangeHash(input)).toString('hex')).toBe(reference(input));
  });

  it('changes when any single field changes', () => {
    // A top bit set makes the mpint and string encodings of the same bytes differ.
    const base = sampleInput({ clientPublic: Uint8Array.of(0xff, ...randomBytes(31)) });
    const h = Buffer.from(computeExchangeHash(base)).toString('hex');
    const variants: Partial<ExchangeHashInput>[] = [
      { clientVersion: base.clientVersion + 'x' },
      { serverVersion: base.serverVersion + 'x' },
      { clientKexInit: base.serverKexInit, serverKexInit: base.clientKexInit },
      { hostKeyBlob: randomBytes(51) },
      { clientPublic: base.serverPublic, serverPublic: base.clientPublic },
      { publicEncoding: 'mpint' },
      { sharedSecret: sshString(randomBytes(32)) },
    ];
    for (const v of variants) {
      expect(Buffer.from(computeExchangeHash({ ...base, ...v })).toString('hex')).not.toBe(h);
    }
  });
});
