import { describe, expect, it } from 'vitest';
import { SshWriter } from '../../lib/codec/wire.js';
import {
  chooseSignatureAlgorithms,
  decodePublicKeyFields,
  encodePublicKeyFields,
  publicKeyHostboundMethod,
  publicKeySignatureData,
} from '../../lib/auth/publickey.js';
import type { KeyType } from '../../lib/keys/key-pair.js';

const sessionId = new Uint8Array([1, 2, 3]);
const publicKeyBlob = new Uint8Array([4, 5]);
const hostKeyBlob = new Uint8Array([6]);

describe('publicKeySignatureData', () => {
  it('lays out the RFC 4252 §7 fields in order', () => {
    const expected = new SshWriter()
      .string(sessionId)
      .byte(50)
      .string('alice')
      .string('ssh-connection')
      .string('publickey')
      .boolean(true)
      .string('ssh-ed25519')
      .string(publicKeyBlob)
      .toBytes();
    const data = publicKeySignatureData({
      sessionId,
      userName: 'alice',
      serviceName: 'ssh-connection',
      methodName: 'publickey',
      algorithm: 'ssh-ed25519',
      publicKeyBlob,
      hostKeyBlob,
    });
    expect(data).toEqual(expected);
  });

  it('appends the server host key for publickey-hostbound-v00', () => {
    const options = { sessionId, userName: 'a', serviceName: 's', methodName: publicKeyHostboundMethod, algorithm: 'x', publicKeyBlob };
    const data = publicKeySignatureData({ ...options, hostKeyBlob });
    expect(data.subarray(-5)).toEqual(new Uint8Array([0, 0, 0, 1, 6]));
    expect(() => publicKeySignatureData(options)).toThrow(/needs the server host key/);
  });
});

describe('publickey request fields', () => {
  it.each([
    ['publickey', undefined, undefined],
    ['publickey', undefined, new Uint8Array([9, 9])],
    [publicKeyHostboundMethod, hostKeyBlob, undefined],
    [publicKeyHostboundMethod, hostKeyBlob, new Uint8Array([9])],
  ])('round-trips %s with host key %s and signature %s', (methodName, host, signature) => {
    const fields = { algorithm: 'rsa-sha2-256', publicKeyBlob, hostKeyBlob: host, signature };
    expect(decodePublicKeyFields(methodName, encodePublicKeyFields(methodName, fields))).toEqual(fields);
  });

  it('rejects trailing bytes after the signature', () => {
    const bytes = encodePublicKeyFields('publickey', { algorithm: 'a', publicKeyBlob, signature: new Uint8Array(1) });
    expect(() => decodePublicKeyFields('publickey', new Uint8Array([...bytes, 0]))).toThrow(/1 trailing bytes/);
  });
});

describe('chooseSignatureAlgorithms', () => {
  const ours = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256'];
  it.each<[KeyType, readonly string[], string[] | undefined, string[]]>([
    ['ssh-rsa', ours, undefined, ['rsa-sha2-512', 'rsa-sha2-256']],
    ['ssh-rsa', [...ours, 'ssh-rsa'], undefined, ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']],
    ['ssh-rsa', ours, ['rsa-sha2-256', 'ssh-rsa'], ['rsa-sha2-256']],
    ['ssh-rsa', ours, ['ssh-rsa'], []],
    ['ssh-rsa', ['ssh-ed25519'], undefined, []],
    ['ssh-ed25519', ours, ['rsa-sha2-256'], ['ssh-ed25519']],
    ['ecdsa-sha2-nistp384', ours, undefined, []],
  ])('for a %s key with ours %j and server-sig-algs %j picks %j', (keyType, mine, server, expected) => {
    expect(chooseSignatureAlgorithms(keyType, mine, server)).toEqual(expected);
  });
});
