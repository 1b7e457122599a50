/**
 * In-memory wiring for authentication specs: two fake sessions implementing AuthTransport that
 * deliver payloads to each other in order (one microtask per message), record DISCONNECTs and
 * close both services the way a session would.
 */
import { SessionConfig } from '../../lib/config.js';
import { DisconnectError } from '../../lib/errors.js';
import { ClientAuthentication } from '../../lib/auth/client.js';
import { ServerAuthentication, type ServerAuthenticationOptions } from '../../lib/auth/server.js';
import { publicKeyHostboundExtension, serverSigAlgsExtension } from '../../lib/auth/publickey.js';
import type { AuthTransport } from '../../lib/auth/types.js';
import type { KeyPair } from '../../lib/keys/key-pair.js';

/** One side's fake session: what it sent and how it was disconnected. */
export interface FakeTransport extends AuthTransport {
  readonly sent: Uint8Array[];
  readonly disconnects: { reason: number; description: string }[];
  peerExtensions: Map<string, string> | undefined;
  hostKeyBlob: Uint8Array | undefined;
  sessionId: Uint8Array;
  /** Where sent payloads go (the peer); unset = only recorded. */
  deliver: ((payload: Uint8Array) => void) | undefined;
  /** Called when this side disconnects. */
  onDisconnect: ((reason: number, description: string) => void) | undefined;
  closed: boolean;
}

/** A fake session for one side. */
export function fakeTransport(config: SessionConfig, sessionId: Uint8Array): FakeTransport {
  const transport: FakeTransport = {
    sent: [],
    disconnects: [],
    peerExtensions: undefined,
    hostKeyBlob: undefined,
    sessionId,
    config,
    deliver: undefined,
    onDisconnect: undefined,
    closed: false,
    async send(payload) {
      if (transport.closed) throw new Error('Session closed');
      const copy = payload.slice();
      transport.sent.push(copy);
      queueMicrotask(() => transport.deliver?.(copy));
    },
    disconnect(reason, description) {
      if (transport.closed) return;
      transport.closed = true;
      transport.disconnects.push({ reason, description });
      transport.onDisconnect?.(reason, description);
    },
  };
  return transport;
}

/** Options of `authPair`. */
export interface AuthPairOptions extends ServerAuthenticationOptions {
  clientConfig?: SessionConfig;
  serverConfig?: SessionConfig;
  hostKey?: KeyPair;
  /** Server announces publickey-hostbound@openssh.com in EXT_INFO. */
  hostbound?: boolean;
  /** Server's server-sig-algs; default its publicKeyAlgorithms; null = no EXT_INFO at all. */
  serverSigAlgs?: string[] | null;
}

/** A client and a server authentication service wired back to back. */
export function authPair(options: AuthPairOptions = {}) {
  const sessionId = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const clientConfig = options.clientConfig ?? SessionConfig.default();
  const serverConfig = options.serverConfig ?? SessionConfig.default();
  const clientTransport = fakeTransport(clientConfig, sessionId);
  const serverTransport = fakeTransport(serverConfig, sessionId);
  if (options.serverSigAlgs !== null) {
    const extensions = new Map([[serverSigAlgsExtension, (options.serverSigAlgs ?? serverConfig.publicKeyAlgorithms).join(',')]]);
    if (options.hostbound) extensions.set(publicKeyHostboundExtension, '0');
    clientTransport.peerExtensions = extensions;
  }
  clientTransport.hostKeyBlob = options.hostKey?.publicKeyBlob;
  serverTransport.hostKeyBlob = options.hostKey?.publicKeyBlob;

  const client = new ClientAuthentication(clientTransport);
  const server = new ServerAuthentication(serverTransport, options);
  const unhandled: number[] = [];
  clientTransport.deliver = (p) => {
    if (!serverTransport.closed && !server.handleMessage(p)) unhandled.push(p[0]!);
  };
  serverTransport.deliver = (p) => {
    if (!clientTransport.closed && !client.handleMessage(p)) unhandled.push(p[0]!);
  };
  const hangUp = (reason: number, description: string) => {
    clientTransport.closed = serverTransport.closed = true;
    const error = new DisconnectError(reason, description);
    client.close(error);
    server.close(error);
  };
  clientTransport.onDisconnect = hangUp;
  serverTransport.onDisconnect = hangUp;
  return { client, server, clientTransport, serverTransport, unhandled, sessionId };
}

/** Settles pending microtask chains (message deliveries and handler continuations). */
export async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
