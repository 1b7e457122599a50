import { describe, expect, it } from 'vitest';
import { KexInit } from '../../lib/codec/messages/transport.js';
import { decode, encode } from '../../lib/codec/schema.js';
import { AlgorithmNegotiationError, DisconnectReason } from '../../lib/errors.js';
import {
  hasMarker,
  isGuessWrong,
  negotiateAlgorithms,
  type KexInitMessage,
  type NegotiatedAlgorithms,
} from '../../lib/kex/negotiate.js';

interface Lists {
  kex?: readonly string[];
  hostKey?: readonly string[];
  cipher?: readonly string[];
  mac?: readonly string[];
  compression?: readonly string[];
}

interface ChoiceCase {
  case: string;
  client: Lists;
  server: Lists;
  field: keyof NegotiatedAlgorithms;
  expected: string | undefined;
}

/** A KEXINIT as the codec decodes it, with the same lists in both directions. */
function kexInit(lists: Lists = {}): KexInitMessage {
  const cipher = lists.cipher ?? ['aes256-gcm@openssh.com', 'aes128-ctr'];
  const mac = lists.mac ?? ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256'];
  const compression = lists.compression ?? ['none'];
  const value: KexInitMessage = {
    cookie: new Uint8Array(16),
    kexAlgorithms: [...(lists.kex ?? ['curve25519-sha256', 'ecdh-sha2-nistp256'])],
    serverHostKeyAlgorithms: [...(lists.hostKey ?? ['ssh-ed25519', 'rsa-sha2-256'])],
    encryptionAlgorithmsClientToServer: [...cipher],
    encryptionAlgorithmsServerToClient: [...cipher],
    macAlgorithmsClientToServer: [...mac],
    macAlgorithmsServerToClient: [...mac],
    compressionAlgorithmsClientToServer: [...compression],
    compressionAlgorithmsServerToClient: [...compression],
    languagesClientToServer: [],
    languagesServerToClient: [],
    firstKexPacketFollows: false,
    reserved: 0,
  };
  // Round-trip through the codec so the specs see exactly what the transport would decode.
  return decode(KexInit, encode(KexInit, value));
}

function negotiationError(fn: () => unknown): AlgorithmNegotiationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AlgorithmNegotiationError) return error;
    throw error;
  }
  throw new Error('Expected an AlgorithmNegotiationError');
}

const choices: ChoiceCase[] = [
  {
    case: "picks the client's first kex the server supports, not the server's first",
    client: { kex: ['ecdh-sha2-nistp256', 'curve25519-sha256'] },
    server: { kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'] },
    field: 'kex',
    expected: 'ecdh-sha2-nistp256',
  },
  {
    case: 'skips client names the server does not offer',
    client: { kex: ['sntrup761x25519-sha512', 'mlkem768x25519-sha256', 'curve25519-sha256'] },
    server: { kex: ['curve25519-sha256', 'mlkem768x25519-sha256'] },
    field: 'kex',
    expected: 'mlkem768x25519-sha256',
  },
  {
    case: 'never picks a kex both offer but we do not implement',
    client: { kex: ['diffie-hellman-group1-sha1', 'curve25519-sha256'] },
    server: { kex: ['diffie-hellman-group1-sha1', 'curve25519-sha256'] },
    field: 'kex',
    expected: 'curve25519-sha256',
  },
  {
    case: 'ignores ext-info and strict-kex markers when choosing the kex',
    client: { kex: ['ext-info-c', 'kex-strict-c-v00@openssh.com', 'curve25519-sha256'] },
    server: { kex: ['ext-info-c', 'kex-strict-c-v00@openssh.com', 'ext-info-s', 'curve25519-sha256'] },
    field: 'kex',
    expected: 'curve25519-sha256',
  },
  {
    case: 'picks the host key algorithm in client order',
    client: { hostKey: ['rsa-sha2-512', 'ssh-ed25519'] },
    server: { hostKey: ['ssh-ed25519', 'rsa-sha2-512'] },
    field: 'serverHostKey',
    expected: 'rsa-sha2-512',
  },
  {
    case: 'never picks a host key algorithm we do not implement',
    client: { hostKey: ['ssh-dss', 'sk-ssh-ed25519@openssh.com', 'ecdsa-sha2-nistp384'] },
    server: { hostKey: ['ssh-dss', 'sk-ssh-ed25519@openssh.com', 'ecdsa-sha2-nistp384'] },
    field: 'serverHostKey',
    expected: 'ecdsa-sha2-nistp384',
  },
  {
    case: 'picks the cipher in client order',
    client: { cipher: ['aes128-ctr', 'aes256-gcm@openssh.com'] },
    server: { cipher: ['aes256-gcm@openssh.com', 'aes128-ctr'] },
    field: 'encryptionClientToServer',
    expected: 'aes128-ctr',
  },
  {
    case: 'never picks a cipher we do not implement',
    client: { cipher: ['3des-cbc', 'aes128-ctr'] },
    server: { cipher: ['3des-cbc', 'aes128-ctr'] },
    field: 'encryptionServerToClient',
    expected: 'aes128-ctr',
  },
  {
    case: 'picks the MAC in client order for a non-AEAD cipher',
    client: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-512', 'hmac-sha2-256'] },
    server: { cipher: ['aes256-ctr'], mac: ['hmac-sha2-256', 'hmac-sha2-512'] },
    field: 'macClientToServer',
    expected: 'hmac-sha2-512',
  },
  {
    case: 'still negotiates a MAC under an AEAD cipher when one is common',
    client: { cipher: ['chacha20-poly1305@openssh.com'], mac: ['hmac-sha2-256'] },
    server: { cipher: ['chacha20-poly1305@openssh.com'], mac: ['hmac-sha2-256'] },
    field: 'macServerToClient',
    expected: 'hmac-sha2-256',
  },
  {
    case: 'leaves the MAC undefined under an AEAD cipher when none is common',
    client: { cipher: ['aes256-gcm@openssh.com'], mac: ['hmac-sha2-512'] },
    server: { cipher: ['aes256-gcm@openssh.com'], mac: ['umac-128-etm@openssh.com'] },
    field: 'macClientToServer',
    expected: undefined,
  },
  {
    case: 'accepts a peer offering zlib@openssh.com and settles on none',
    client: { compression: ['zlib@openssh.com', 'zlib', 'none'] },
    server: { compression: ['none'] },
    field: 'compressionClientToServer',
    expected: 'none',
  },
  {
    case: 'settles on none when the server prefers zlib@openssh.com',
    client: { compression: ['none'] },
    server: { compression: ['zlib@openssh.com', 'none'] },
    field: 'compressionServerToClient',
    expected: 'none',
  },
  {
    case: 'picks zlib@openssh.com when the client asks first for it',
    client: { compression: ['zlib@openssh.com', 'zlib', 'none'] },
    server: { compression: ['none', 'zlib@openssh.com', 'zlib'] },
    field: 'compressionClientToServer',
    expected: 'zlib@openssh.com',
  },
  {
    case: 'keeps none when the client lists it first, whatever the server prefers',
    client: { compression: ['none', 'zlib@openssh.com', 'zlib'] },
    server: { compression: ['zlib', 'zlib@openssh.com', 'none'] },
    field: 'compressionServerToClient',
    expected: 'none',
  },
  {
    case: 'never picks compression we do not implement even if both offer it first',
    client: { compression: ['zstd@example.com', 'none'] },
    server: { compression: ['zstd@example.com', 'none'] },
    field: 'compressionClientToServer',
    expected: 'none',
  },
  {
    case: 'allows the none kex when both sides offer it',
    client: { kex: ['none'], hostKey: [], cipher: ['none'], mac: ['none'] },
    server: { kex: ['none'], hostKey: [], cipher: ['none'], mac: ['none'] },
    field: 'kex',
    expected: 'none',
  },
  {
    case: 'needs no common host key under the none kex',
    client: { kex: ['none'], hostKey: [], cipher: ['none'], mac: ['none'] },
    server: { kex: ['none'], hostKey: ['ssh-ed25519'], cipher: ['none'], mac: ['none'] },
    field: 'serverHostKey',
    expected: 'none',
  },
];

describe('negotiateAlgorithms', () => {
  it.each(choices)('$case', ({ client, server, field, expected }) => {
    const result = negotiateAlgorithms(kexInit(client), kexInit(server));
    expect(result[field]).toBe(expected);
  });

  it('negotiates each direction independently', () => {
    const client = kexInit();
    const server = kexInit();
    const c = { ...client, encryptionAlgorithmsServerToClient: ['aes128-ctr'], macAlgorithmsServerToClient: ['hmac-sha2-256'] };
    const result = negotiateAlgorithms(c, server);
    expect(result).toEqual({
      kex: 'curve25519-sha256',
      serverHostKey: 'ssh-ed25519',
      encryptionClientToServer: 'aes256-gcm@openssh.com',
      encryptionServerToClient: 'aes128-ctr',
      macClientToServer: 'hmac-sha2-256-etm@openssh.com',
      macServerToClient: 'hmac-sha2-256',
      compressionClientToServer: 'none',
      compressionServerToClient: 'none',
    });
  });

  it.each([
    {
      kind: 'key exchange',
      client: { kex: ['curve25519-sha256', 'ext-info-c'] },
      server: { kex: ['diffie-hellman-group14-sha256', 'ext-info-c'] },
      ours: 'curve25519-sha256,ext-info-c',
      theirs: 'diffie-hellman-group14-sha256,ext-info-c',
    },
    {
      kind: 'host key',
      client: { hostKey: ['ssh-ed25519'] },
      server: { hostKey: ['rsa-sha2-512'] },
      ours: 'ssh-ed25519',
      theirs: 'rsa-sha2-512',
    },
    {
      kind: 'client-to-server cipher',
      client: { cipher: ['aes128-ctr'] },
      server: { cipher: ['aes256-gcm@openssh.com'] },
      ours: 'aes128-ctr',
      theirs: 'aes256-gcm@openssh.com',
    },
    {
      kind: 'client-to-server MAC',
      client: { cipher: ['aes128-ctr'], mac: ['hmac-sha2-256'] },
      server: { cipher: ['aes128-ctr'], mac: ['hmac-sha2-512'] },
      ours: 'hmac-sha2-256',
      theirs: 'hmac-sha2-512',
    },
    {
      kind: 'client-to-server compression',
      client: { compression: ['zlib@openssh.com'] },
      server: { compression: ['none'] },
      ours: 'zlib@openssh.com',
      theirs: 'none',
    },
  ])('fails with a $kind error naming both lists', ({ kind, client, server, ours, theirs }) => {
    const error = negotiationError(() => negotiateAlgorithms(kexInit(client), kexInit(server)));
    expect(error.kind).toBe(kind);
    expect(error.reason).toBe(DisconnectReason.keyExchangeFailed);
    expect(error.message).toBe(`No common ${kind} algorithm: ours [${ours}], theirs [${theirs}]`);
  });

  it('fails when only markers are common', () => {
    const error = negotiationError(() =>
      negotiateAlgorithms(kexInit({ kex: ['sntrup761x25519-sha512', 'ext-info-c'] }), kexInit({ kex: ['ext-info-c'] })),
    );
    expect(error.kind).toBe('key exchange');
  });

  it('labels the lists from the server side when we are the server', () => {
    const client = kexInit({ kex: ['curve25519-sha256'] });
    const server = kexInit({ kex: ['ecdh-sha2-nistp256'] });
    const error = negotiationError(() => negotiateAlgorithms(client, server, 'server'));
    expect(error.ours).toEqual(['ecdh-sha2-nistp256']);
    expect(error.theirs).toEqual(['curve25519-sha256']);
  });
});

describe('isGuessWrong', () => {
  it.each([
    {
      case: 'both sides prefer the same kex and host key',
      client: { kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'], hostKey: ['ssh-ed25519', 'rsa-sha2-512'] },
      server: { kex: ['curve25519-sha256'], hostKey: ['ssh-ed25519'] },
      wrong: false,
    },
    {
      case: 'the kex preferences differ',
      client: { kex: ['ecdh-sha2-nistp256', 'curve25519-sha256'] },
      server: { kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'] },
      wrong: true,
    },
    {
      case: "the server prefers another kex even though the client's first is negotiated",
      client: { kex: ['ecdh-sha2-nistp256'] },
      server: { kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'] },
      wrong: true,
    },
    {
      case: 'the host key preferences differ',
      client: { hostKey: ['rsa-sha2-512', 'ssh-ed25519'] },
      server: { hostKey: ['ssh-ed25519', 'rsa-sha2-512'] },
      wrong: true,
    },
    {
      case: 'the kex lists differ only after a leading marker',
      client: { kex: ['ext-info-c', 'curve25519-sha256'] },
      server: { kex: ['curve25519-sha256', 'kex-strict-s-v00@openssh.com'] },
      wrong: false,
    },
  ])('is $wrong when $case', ({ client, server, wrong }) => {
    expect(isGuessWrong(kexInit(client), kexInit(server))).toBe(wrong);
  });
});

describe('hasMarker', () => {
  it('finds a marker in kex_algorithms and nowhere else', () => {
    const init = kexInit({ kex: ['curve25519-sha256', 'ext-info-c', 'kex-strict-c-v00@openssh.com'] });
    expect(hasMarker(init, 'ext-info-c')).toBe(true);
    expect(hasMarker(init, 'kex-strict-c-v00@openssh.com')).toBe(true);
    expect(hasMarker(init, 'kex-strict-s-v00@openssh.com')).toBe(false);
    expect(hasMarker(kexInit({ hostKey: ['ext-info-s'] }), 'ext-info-s')).toBe(false);
  });
});
