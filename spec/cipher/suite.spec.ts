import { describe, expect, it, vi } from 'vitest';
import { SshError } from '../../lib/errors.js';
import { CIPHER_NAMES, MAC_NAMES } from '../../lib/cipher/registry.js';
import { SUITES } from './suites.js';

describe('cipher suite seam', () => {
  it.each(SUITES)('$name implements exactly the registry names', ({ suite }) => {
    expect(suite.ciphers.map((c) => c.name).sort()).toEqual([...CIPHER_NAMES].sort());
    expect(suite.macs.map((m) => m.name).sort()).toEqual([...MAC_NAMES].sort());
  });

  it('fails with a clear SshError when nothing installed a suite, not at import', async () => {
    vi.resetModules();
    // A fresh copy of the modules, without the platform file the spec setup ran.
    const registry = await import('../../lib/cipher/registry.js');
    const { SshError: FreshSshError } = await import('../../lib/errors.js');
    expect(() => registry.cipherAlgorithms.get('aes128-ctr')).toThrow(FreshSshError);
    expect(() =>
      registry.createPacketProtection({ cipher: 'aes128-ctr', mac: 'hmac-sha2-256', keys: { iv: new Uint8Array(16), encryptionKey: new Uint8Array(16), integrityKey: new Uint8Array(32) }, direction: 'sealing' }),
    ).toThrow(/No cipher suite is installed/);
    expect(FreshSshError.name).toBe(SshError.name);
  });
});
