/**
 * Session pair builders: a ClientSession and a ServerSession connected over an in-memory pipe
 * (or TCP), with the host key accepted and, optionally, a user authenticated by password.
 */
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair, type KeyPair, type PublicKeyAlgorithmName } from '../../lib/keys/key-pair.js';
import type { ServerAuthenticatingHandler } from '../../lib/auth/types.js';
import { duplexPair, type ByteDuplex } from './pipes.js';

/** Every public key algorithm the library signs and verifies with. */
export const publicKeyAlgorithms: readonly PublicKeyAlgorithmName[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

let sharedHostKey: Promise<KeyPair> | undefined;

/** One ed25519 host key per test process. */
export function testHostKey(): Promise<KeyPair> {
  sharedHostKey ??= generateKeyPair('ssh-ed25519');
  return sharedHostKey;
}

/** Options of {@link sessionPair}. */
export interface SessionPairOptions {
  clientConfig?: SessionConfig;
  serverConfig?: SessionConfig;
  hostKeys?: KeyPair[];
  /** Server handler; default accepts user `user` with password `secret`. */
  onAuthenticating?: ServerAuthenticatingHandler;
  /** Authenticate as `user`/`secret` (default true). */
  authenticate?: boolean;
  /** The link between them (default an in-memory pair). */
  link?: [ByteDuplex, ByteDuplex];
}

/** A connected (and by default authenticated) client and server. */
export async function sessionPair(options: SessionPairOptions = {}): Promise<{ client: ClientSession; server: ServerSession }> {
  const [a, b] = options.link ?? duplexPair();
  const hostKeys = options.hostKeys ?? [await testHostKey()];
  const client = new ClientSession(options.clientConfig ?? SessionConfig.default());
  const server = new ServerSession(options.serverConfig ?? SessionConfig.default(), { hostKeys });
  client.onAuthenticating = (e) => hostKeys.some((k) => k.equals(e.publicKey));
  server.onAuthenticating = options.onAuthenticating ?? ((e) => e.username === 'user' && e.password === 'secret');
  await Promise.all([client.connect(a), server.connect(b)]);
  if (options.authenticate ?? true) {
    const ok = await client.authenticate({ username: 'user', password: 'secret' });
    if (!ok) throw new Error('Test pair failed to authenticate');
  }
  return { client, server };
}
