/**
 * Certificates in user and host authentication between our own client and server
 * (PROTOCOL.certkeys): user certificates reach `onAuthenticating` as `e.certificate` once their
 * CA signature, type, validity and critical options pass; host certificates are checked by the
 * client before its handler sees them; the clock is injected through `config.clock`.
 */
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import { SessionConfig } from '../../lib/config.js';
import { signCertificate, type Certificate } from '../../lib/keys/certificate.js';
import type { MaybeCertifiedKey } from '../../lib/keys/certified-key.js';
import type { ServerAuthenticatingEvent } from '../../lib/auth/types.js';
import type { ClientAuthenticatingEvent } from '../../lib/client-session.js';
import { serveExec } from '../../lib/session/exec.js';
import { duplexPair } from '../helpers/pipes.js';
import { keyTypes, testKeys } from './test-keys.js';

const june2026 = Date.UTC(2026, 5, 1);
const validAfter = BigInt(Date.UTC(2026, 0, 1) / 1000);
const validBefore = BigInt(Date.UTC(2027, 0, 1) / 1000);

function configAt(ms: number, certificatesFirst = false): SessionConfig {
  const config = SessionConfig.default();
  config.clock = () => ms;
  if (certificatesFirst) {
    config.publicKeyAlgorithms = [
      ...config.publicKeyAlgorithms.filter((a) => a.endsWith('-cert-v01@openssh.com')),
      ...config.publicKeyAlgorithms.filter((a) => !a.endsWith('-cert-v01@openssh.com')),
    ];
  }
  return config;
}

async function pair(options: {
  hostKeys: MaybeCertifiedKey[];
  clientConfig?: SessionConfig;
  serverConfig?: SessionConfig;
  remoteAddress?: string;
  onServerAuth?: (e: ServerAuthenticatingEvent) => unknown;
  onHostKey?: (e: ClientAuthenticatingEvent) => unknown;
}): Promise<{ client: ClientSession; server: ServerSession; connected: Promise<unknown> }> {
  const [a, b] = duplexPair();
  const client = new ClientSession(options.clientConfig ?? configAt(june2026));
  const server = new ServerSession(options.serverConfig ?? configAt(june2026), {
    hostKeys: options.hostKeys,
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
  client.onAuthenticating = options.onHostKey ?? (() => true);
  server.onAuthenticating = options.onServerAuth ?? (() => false);
  server.closed.catch(() => {});
  const connected = Promise.all([client.connect(a), server.connect(b).catch(() => {})]);
  return { client, server, connected };
}

describe('user certificates', () => {
  for (const type of keyTypes) {
    it(`authenticates with a ${type} key and its certificate, handing the certificate to onAuthenticating`, async () => {
      const keys = await testKeys();
      const ca = keys['ssh-ed25519'];
      const certificate = await signCertificate({ publicKey: keys[type], caKey: ca, principals: ['alice'], validAfter, validBefore, keyId: 'alice@laptop' });
      const seen: ServerAuthenticatingEvent[] = [];
      const { client, server, connected } = await pair({
        hostKeys: [keys['ecdsa-sha2-nistp256']],
        onServerAuth: (e) => {
          seen.push(e);
          return e.certificate?.signatureKey.equals(ca) === true && e.certificate.principals.includes(e.username);
        },
      });
      await connected;
      expect(await client.authenticate({ username: 'alice', privateKeys: [{ key: keys[type], certificate }] })).toBe(true);
      const signed = seen.filter((e) => e.authenticationType === 'publickey' && !e.isQuery);
      expect(signed.at(-1)!.certificate!.keyId).toBe('alice@laptop');
      expect(signed.at(-1)!.publicKeyAlgorithm).toMatch(/-cert-v01@openssh\.com$/);
      expect(signed.at(-1)!.publicKey!.equals(keys[type])).toBe(true);
      expect(server.certificate?.keyId).toBe('alice@laptop');
      await client.close();
    });
  }

  it('refuses expired, not yet valid and host-typed certificates without asking the handler', async () => {
    const keys = await testKeys();
    const ca = keys['ssh-ed25519'];
    const user = keys['ecdsa-sha2-nistp384'];
    const cases = [
      { clock: Date.UTC(2027, 0, 1), type: 'user' as const },
      { clock: Date.UTC(2025, 11, 31), type: 'user' as const },
      { clock: june2026, type: 'host' as const },
    ];
    for (const c of cases) {
      const certificate = await signCertificate({ publicKey: user, caKey: ca, type: c.type, validAfter, validBefore });
      const seen: ServerAuthenticatingEvent[] = [];
      const { client, connected } = await pair({
        hostKeys: [keys['ssh-ed25519']],
        serverConfig: configAt(c.clock),
        onServerAuth: (e) => {
          seen.push(e);
          return e.authenticationType === 'publickey';
        },
      });
      await connected;
      expect(await client.authenticate({ username: 'alice', privateKeys: [{ key: user, certificate }] })).toBe(false);
      expect(seen.filter((e) => e.authenticationType === 'publickey')).toEqual([]);
      await client.close();
    }
  });

  it('enforces source-address against the client address and refuses it when the address is unknown', async () => {
    const keys = await testKeys();
    const certificate = await signCertificate({
      publicKey: keys['ssh-ed25519'],
      caKey: keys['ssh-rsa'],
      criticalOptions: new Map([['source-address', '10.0.0.0/8,::1']]),
    });
    const credentials = { username: 'u', privateKeys: [{ key: keys['ssh-ed25519'], certificate }] };
    for (const [remoteAddress, expected] of [['10.9.8.7', true], ['::ffff:10.1.1.1', true], ['::1', true], ['192.168.0.1', false], [undefined, false]] as const) {
      const { client, connected } = await pair({ hostKeys: [keys['ssh-ed25519']], onServerAuth: (e) => e.authenticationType === 'publickey', ...(remoteAddress ? { remoteAddress } : {}) });
      await connected;
      expect(await client.authenticate(credentials), `from ${remoteAddress}`).toBe(expected);
      await client.close();
    }
  });

  it('refuses unknown critical options', async () => {
    const keys = await testKeys();
    const certificate = await signCertificate({
      publicKey: keys['ssh-ed25519'],
      caKey: keys['ssh-ed25519'],
      criticalOptions: new Map([['verify-required', '']]),
    });
    const { client, connected } = await pair({ hostKeys: [keys['ssh-ed25519']], onServerAuth: (e) => e.authenticationType === 'publickey' });
    await connected;
    expect(await client.authenticate({ username: 'u', privateKeys: [{ key: keys['ssh-ed25519'], certificate }] })).toBe(false);
    await client.close();
  });

  it('runs the force-command of the certificate instead of the requested command, under serveExec', async () => {
    const keys = await testKeys();
    const certificate = await signCertificate({
      publicKey: keys['ssh-ed25519'],
      caKey: keys['ssh-ed25519'],
      criticalOptions: new Map([['force-command', 'echo forced "$SSH_ORIGINAL_COMMAND"']]),
    });
    const { client, server, connected } = await pair({ hostKeys: [keys['ssh-ed25519']], onServerAuth: (e) => e.authenticationType === 'publickey' });
    await connected;
    void (async () => {
      for await (const channel of server.channels) serveExec(channel);
    })();
    expect(await client.authenticate({ username: 'u', privateKeys: [{ key: keys['ssh-ed25519'], certificate }] })).toBe(true);
    expect(server.forcedCommand).toBe('echo forced "$SSH_ORIGINAL_COMMAND"');
    const channel = await client.openChannel();
    expect(await channel.exec('cat /etc/shadow')).toBe(true);
    void channel.writable.close();
    let out = '';
    for await (const chunk of channel.readable) out += new TextDecoder().decode(chunk);
    expect(out).toBe('forced cat /etc/shadow\n');
    expect((await channel.closed).exitStatus).toBe(0);
    await client.close();
  });
});

describe('host certificates', () => {
  async function hostCertificate(options: { type?: 'user' | 'host'; principals?: string[] } = {}): Promise<{ key: MaybeCertifiedKey; certificate: Certificate }> {
    const keys = await testKeys();
    const certificate = await signCertificate({
      publicKey: keys['ecdsa-sha2-nistp521'],
      caKey: keys['ssh-rsa'],
      type: options.type ?? 'host',
      principals: options.principals ?? ['server.example'],
      validAfter,
      validBefore,
    });
    return { key: { key: keys['ecdsa-sha2-nistp521'], certificate }, certificate };
  }

  it('offers the certificate to a client that asks for it and hands it to onAuthenticating', async () => {
    const keys = await testKeys();
    const { key } = await hostCertificate();
    const seen: ClientAuthenticatingEvent[] = [];
    const { client, connected } = await pair({
      hostKeys: [keys['ssh-ed25519'], key],
      clientConfig: configAt(june2026, true),
      onHostKey: (e) => {
        seen.push(e);
        return e.certificate?.signatureKey.equals(keys['ssh-rsa']) && e.certificate.principals.includes('server.example');
      },
    });
    await connected;
    expect(seen[0]!.publicKeyAlgorithm).toBe('ecdsa-sha2-nistp521-cert-v01@openssh.com');
    expect(seen[0]!.publicKey.equals(keys['ecdsa-sha2-nistp521'])).toBe(true);
    expect(client.hostCertificate?.principals).toEqual(['server.example']);
    await client.close();
  });

  it('uses the plain host key for a client that lists plain algorithms first', async () => {
    const keys = await testKeys();
    const { key } = await hostCertificate();
    const seen: ClientAuthenticatingEvent[] = [];
    const { client, connected } = await pair({ hostKeys: [key], onHostKey: (e) => seen.push(e) });
    await connected;
    expect(seen[0]!.publicKeyAlgorithm).toBe('ecdsa-sha2-nistp521');
    expect(seen[0]!.certificate).toBeUndefined();
    await client.close();
    void keys;
  });

  for (const [name, clock, certOptions, message] of [
    ['expired', Date.UTC(2027, 1, 1), {}, /expired at 2027-01-01/],
    ['user-typed', june2026, { type: 'user' as const }, /is a user certificate, expected host/],
  ] as const) {
    it(`refuses an ${name} host certificate before onAuthenticating`, async () => {
      const { key } = await hostCertificate(certOptions);
      let asked = false;
      const { connected } = await pair({
        hostKeys: [key],
        clientConfig: configAt(clock, true),
        onHostKey: () => (asked = true),
      });
      await expect(connected).rejects.toThrow(message);
      expect(asked).toBe(false);
    });
  }
});
