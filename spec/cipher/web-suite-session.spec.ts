/**
 * Whole sessions with the portable `@noble` cipher suite installed, as in the browser build: our
 * client and server over an in-memory pipe, for every cipher × MAC combination, move a few MiB
 * through an echoing channel and compare SHA-256 hashes. A counting wrapper proves the packets
 * went through the `@noble` strategies and not node:crypto.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIPHER_NAMES, MAC_NAMES } from '../../lib/cipher/registry.js';
import { installCipherSuite, installedCipherSuite, type CipherSuite } from '../../lib/cipher/suite.js';
import { nodeCipherSuite } from '../../lib/cipher/suites/node.js';
import { webCipherSuite } from '../../lib/cipher/suites/web.js';
import { SessionConfig } from '../../lib/config.js';
import { sessionPair } from '../helpers/pairs.js';
import { readAll } from '../helpers/pipes.js';
import { cipherOf } from './suites.js';

const MiB = 1024 * 1024;
const built = new Map<string, number>();

/** The web suite, counting the strategies it builds per cipher name. */
const countingWebSuite: CipherSuite = {
  ...webCipherSuite,
  ciphers: webCipherSuite.ciphers.map((c) => ({
    ...c,
    opening: (keys, mac) => (built.set(c.name, (built.get(c.name) ?? 0) + 1), c.opening(keys, mac)),
    sealing: (keys, mac) => (built.set(c.name, (built.get(c.name) ?? 0) + 1), c.sealing(keys, mac)),
  })),
};

const ciphers = CIPHER_NAMES.filter((c) => c !== 'none');
const macs = MAC_NAMES.filter((m) => m !== 'none');
// An AEAD cipher ignores the MAC: one MAC is enough to cover it.
const combinations = ciphers.flatMap((cipher) =>
  (cipherOf(webCipherSuite, cipher).aead ? macs.slice(0, 1) : macs).map((mac) => ({ cipher, mac })),
);

function config(cipher: string, mac: string): SessionConfig {
  return Object.assign(SessionConfig.default(), { encryptionAlgorithms: [cipher], hmacAlgorithms: [mac] });
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

beforeAll(() => installCipherSuite(countingWebSuite));
afterAll(() => installCipherSuite(nodeCipherSuite));

describe('sessions under the @noble cipher suite', () => {
  it('prefer chacha20-poly1305, the fastest cipher in pure JavaScript, and negotiate it by default', async () => {
    expect(SessionConfig.default().encryptionAlgorithms).toEqual([
      'chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-gcm@openssh.com', 'aes256-ctr', 'aes192-ctr', 'aes128-ctr',
    ]);
    const { client, server } = await sessionPair();
    expect(client.algorithms?.encryptionClientToServer).toBe('chacha20-poly1305@openssh.com');
    await client.close();
    await server.close();
  });

  it.each(combinations)('echo 3 MiB with $cipher and $mac', async ({ cipher, mac }) => {
    expect(installedCipherSuite().suite.name).toBe('@noble');
    const before = built.get(cipher) ?? 0;
    const { client, server } = await sessionPair({ clientConfig: config(cipher, mac), serverConfig: config(cipher, mac) });
    void (async () => {
      for await (const channel of server.channels) void channel.readable.pipeTo(channel.writable).catch(() => {});
    })();
    const channel = await client.openChannel();
    const data = randomBytes(3 * MiB);
    const echoed = readAll(channel.readable);
    const writer = channel.writable.getWriter();
    for (let at = 0; at < data.length; at += 100_000) await writer.write(data.subarray(at, at + 100_000));
    await writer.close();
    expect(sha256(await echoed)).toBe(sha256(data));
    // Client and server, each an opening and a sealing key.
    expect((built.get(cipher) ?? 0) - before).toBeGreaterThanOrEqual(4);
    await client.close();
    await server.close();
  });
});
