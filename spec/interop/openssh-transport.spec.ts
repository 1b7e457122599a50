/**
 * Key exchange interop with OpenSSH in both directions, one algorithm at a time: our client
 * against a test sshd reaches the ssh-userauth service; OpenSSH's ssh against our server
 * completes the key exchange (its -v output names what was negotiated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type Server } from 'node:net';
import { Transport } from '../../lib/transport/transport.js';
import { SessionConfig } from '../../lib/config.js';
import { encode } from '../../lib/codec/schema.js';
import { ServiceAccept, ServiceRequest, MessageType } from '../../lib/codec/messages/transport.js';
import { decode } from '../../lib/codec/schema.js';
import { CIPHER_NAMES, MAC_NAMES } from '../../lib/cipher/registry.js';
import { KEX_NAMES } from '../../lib/kex/registry.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { runSsh, skipWithoutOpenSsh, sshQuery, startSshd, type Sshd } from '../helpers/openssh.js';
import { toByteDuplex } from '../helpers/pipes.js';

const skip = skipWithoutOpenSsh();
const theirs = skip ? { kex: [], cipher: [], mac: [], key: [] } : {
  kex: sshQuery('kex'),
  cipher: sshQuery('cipher'),
  mac: sshQuery('mac'),
  key: sshQuery('key-sig'),
};
const both = (ours: readonly string[], other: readonly string[]) => ours.filter((n) => n !== 'none' && other.includes(n));
const kexes = both(KEX_NAMES, theirs.kex);
const ciphers = both(CIPHER_NAMES, theirs.cipher);
const macs = both(MAC_NAMES, theirs.mac);
const hostKeyAlgorithms = both(
  ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'],
  theirs.key,
);

type Case = { kind: string; name: string; config: Partial<SessionConfig> };
const cases: Case[] = [
  ...kexes.map((name) => ({ kind: 'kex', name, config: { keyExchangeAlgorithms: [name] } })),
  ...ciphers.map((name) => ({ kind: 'cipher', name, config: { encryptionAlgorithms: [name] } })),
  ...macs.map((name) => ({ kind: 'mac', name, config: { encryptionAlgorithms: ['aes128-ctr'], hmacAlgorithms: [name] } })),
  ...hostKeyAlgorithms.map((name) => ({ kind: 'host key', name, config: { publicKeyAlgorithms: [name] } })),
];

describe.skipIf(skip)('OpenSSH interop: key exchange', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd({ ciphers });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it.each(cases.map((c) => [c.kind, c.name, c] as const))('our client completes kex with sshd (%s %s) and reaches ssh-userauth', async (_k, _n, c) => {
    const socket = connect(sshd.port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const transport = new Transport({ isServer: false, config: Object.assign(SessionConfig.default(), c.config) });
    const accepted = new Promise<string>((resolve) => {
      transport.onMessage = (p) => {
        if (p[0] !== MessageType.ServiceAccept) return false;
        resolve(decode(ServiceAccept, p).serviceName);
        return true;
      };
    });
    await transport.connect(toByteDuplex(socket));
    const algorithms = transport.algorithms!;
    const chosen = { kex: algorithms.kex, cipher: algorithms.encryptionClientToServer, mac: algorithms.macClientToServer, 'host key': algorithms.serverHostKey };
    expect(chosen[c.kind as keyof typeof chosen]).toBe(c.name);
    expect(transport.serverVersion).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(transport.strictKex).toBe(true);
    expect(transport.peerExtensions?.get('server-sig-algs')).toMatch(/ssh-ed25519/);
    await transport.send(encode(ServiceRequest, { serviceName: 'ssh-userauth' }));
    expect(await accepted).toBe('ssh-userauth');
    await transport.close();
    socket.destroy();
  });
});

describe.skipIf(skip)('OpenSSH interop: ssh against our server', () => {
  let server: Server;
  let port: number;
  const hostKeys: KeyPair[] = [];
  let serverConfig: SessionConfig;
  beforeAll(async () => {
    hostKeys.push(await generateKeyPair('ssh-ed25519'), await generateKeyPair('ecdsa-sha2-nistp256'), await generateKeyPair('ecdsa-sha2-nistp384'), await generateKeyPair('ecdsa-sha2-nistp521'), await generateKeyPair('rsa-sha2-512', { keySize: 2048 }));
    serverConfig = SessionConfig.default();
    serverConfig.encryptionAlgorithms.push('aes256-cbc');
    server = createServer((socket) => {
      socket.on('error', () => {});
      const transport = new Transport({ isServer: true, config: serverConfig, hostKeys });
      // No user authentication at this layer: end the session at ssh's first service request.
      transport.onMessage = (p) => {
        if (p[0] === MessageType.ServiceRequest) void transport.close(7, 'Key exchange test only');
        return true;
      };
      transport.connect(toByteDuplex(socket)).catch(() => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const sshOption = { kex: 'KexAlgorithms', cipher: 'Ciphers', mac: 'MACs', 'host key': 'HostKeyAlgorithms' } as const;
  it.each(cases.map((c) => [c.kind, c.name] as const))('ssh completes kex with our server (%s %s)', async (kind, name) => {
    const options: Record<string, string> = { [sshOption[kind as keyof typeof sshOption]]: name };
    if (kind === 'mac') options.Ciphers = 'aes128-ctr';
    const result = await runSsh(['true'], { port, options, authentication: 'none', timeoutMs: 20_000 });
    const n = result.negotiated;
    const chosen = { kex: n.kex, cipher: n.clientToServer?.cipher, mac: n.clientToServer?.mac, 'host key': n.hostKey };
    expect(chosen[kind as keyof typeof chosen], result.stderr).toBe(name);
    expect(result.stderr).toContain('SSH2_MSG_NEWKEYS received');
    expect(result.stderr).toContain('Key exchange test only');
  });
});
