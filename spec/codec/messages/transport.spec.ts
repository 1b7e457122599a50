import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../lib/codec/schema.js';
import { Disconnect, KexInit } from '../../../lib/codec/messages/transport.js';
import { SshWriter } from '../../../lib/codec/wire.js';
import { ProtocolError } from '../../../lib/errors.js';

describe('transport messages', () => {
  it('round-trips DISCONNECT and accepts one without the language tag', () => {
    const full = encode(Disconnect, { reasonCode: 11, description: 'bye', languageTag: 'en' });
    expect(decode(Disconnect, full)).toEqual({ reasonCode: 11, description: 'bye', languageTag: 'en' });
    const short = new SshWriter().byte(1).uint32(2).string('no tag').toBytes();
    expect(decode(Disconnect, short)).toMatchObject({ reasonCode: 2, description: 'no tag', languageTag: undefined });
  });

  it('rejects trailing bytes and names the message, field and offset of a truncation', () => {
    const kexinit = encode(KexInit, {
      cookie: new Uint8Array(16),
      kexAlgorithms: ['curve25519-sha256'],
      serverHostKeyAlgorithms: ['ssh-ed25519'],
      encryptionAlgorithmsClientToServer: ['aes256-gcm@openssh.com'],
      encryptionAlgorithmsServerToClient: ['aes256-gcm@openssh.com'],
      macAlgorithmsClientToServer: [],
      macAlgorithmsServerToClient: [],
      compressionAlgorithmsClientToServer: ['none'],
      compressionAlgorithmsServerToClient: ['none'],
      languagesClientToServer: [],
      languagesServerToClient: [],
      firstKexPacketFollows: false,
      reserved: 0,
    });
    expect(decode(KexInit, kexinit).kexAlgorithms).toEqual(['curve25519-sha256']);
    expect(() => decode(KexInit, new Uint8Array([...kexinit, 0]))).toThrow(/KexInit: 1 trailing bytes/);
    expect(() => decode(KexInit, kexinit.subarray(0, 20))).toThrow(ProtocolError);
    expect(() => decode(KexInit, kexinit.subarray(0, 20))).toThrow(/KexInit\.kexAlgorithms: unexpected end of payload at offset 17/);
  });
});
