import { describe, expect, it } from 'vitest';
import { SshReader } from '../../lib/codec/wire.js';
import { isKnownKex, KEX_NAMES, KEX_NONE, kexMethods } from '../../lib/kex/registry.js';
import { seededRandom } from './seeded-random.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Runs one exchange: client ephemeral, server answer, client completion. */
function exchange(name: string, seed: string) {
  const method = kexMethods.get(name)!;
  const client = method.client(seededRandom(`${seed}:client`));
  const server = method.server(client.publicValue, seededRandom(`${seed}:server`));
  return { method, client, server, clientSecret: client.computeSecret(server.publicValue) };
}

describe('kexMethods', () => {
  it('holds exactly the names of KEX_NAMES, each under its own wire name', () => {
    expect([...kexMethods.keys()].sort()).toEqual([...KEX_NAMES].sort());
    for (const [name, method] of kexMethods) expect(method.name).toBe(name);
  });

  it('knows none as a name without a method', () => {
    expect(kexMethods.has(KEX_NONE)).toBe(false);
    expect(isKnownKex(KEX_NONE)).toBe(true);
    expect(isKnownKex('diffie-hellman-group1-sha1')).toBe(false);
    expect(isKnownKex('ext-info-c')).toBe(false);
  });

  it.each(KEX_NAMES)('%s: client and server derive the same encoded secret', (name) => {
    const { clientSecret, server } = exchange(name, 'agree');
    expect(toHex(clientSecret)).toBe(toHex(server.sharedSecret));
  });

  it.each(KEX_NAMES)('%s: the secret is encoded as its method says, length prefix included', (name) => {
    const { method, clientSecret } = exchange(name, 'encoding');
    const reader = new SshReader(clientSecret);
    if (name === 'mlkem768x25519-sha256') {
      expect(reader.string()).toHaveLength(32);
    } else {
      const magnitude = reader.mpint();
      expect(magnitude.length).toBeGreaterThan(0);
      // Minimal mpint: a leading zero byte only when the magnitude's top bit is set.
      const body = clientSecret.subarray(4);
      expect(body[0] === 0).toBe(magnitude[0]! >= 0x80);
    }
    reader.end();
    expect(method.publicEncoding).toBe(name.startsWith('diffie-hellman') ? 'mpint' : 'string');
  });

  it.each(KEX_NAMES)('%s: is deterministic for a given random source', (name) => {
    const first = exchange(name, 'same');
    const second = exchange(name, 'same');
    expect(toHex(second.client.publicValue)).toBe(toHex(first.client.publicValue));
    expect(toHex(second.server.publicValue)).toBe(toHex(first.server.publicValue));
    expect(toHex(second.clientSecret)).toBe(toHex(first.clientSecret));
    const other = exchange(name, 'other');
    expect(toHex(other.client.publicValue)).not.toBe(toHex(first.client.publicValue));
    expect(toHex(other.clientSecret)).not.toBe(toHex(first.clientSecret));
  });

  it.each([
    { name: 'mlkem768x25519-sha256', hash: 'sha256', client: 1216, server: 1120 },
    { name: 'curve25519-sha256', hash: 'sha256', client: 32, server: 32 },
    { name: 'curve25519-sha256@libssh.org', hash: 'sha256', client: 32, server: 32 },
    { name: 'ecdh-sha2-nistp521', hash: 'sha512', client: 133, server: 133 },
    { name: 'ecdh-sha2-nistp384', hash: 'sha384', client: 97, server: 97 },
    { name: 'ecdh-sha2-nistp256', hash: 'sha256', client: 65, server: 65 },
    { name: 'diffie-hellman-group16-sha512', hash: 'sha512', client: 512, server: 512 },
    { name: 'diffie-hellman-group14-sha256', hash: 'sha256', client: 256, server: 256 },
  ])('$name uses $hash and public values of $client / $server bytes', ({ name, hash, client, server }) => {
    const result = exchange(name, 'sizes');
    expect(result.method.hash).toBe(hash);
    if (result.method.publicEncoding === 'mpint') {
      // An mpint magnitude is shorter when its top bytes happen to be zero.
      expect(result.client.publicValue.length).toBeGreaterThan(client - 4);
      expect(result.client.publicValue.length).toBeLessThanOrEqual(client);
      expect(result.server.publicValue.length).toBeGreaterThan(server - 4);
      expect(result.server.publicValue.length).toBeLessThanOrEqual(server);
    } else {
      expect(result.client.publicValue).toHaveLength(client);
      expect(result.server.publicValue).toHaveLength(server);
    }
  });
});
