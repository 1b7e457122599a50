import { describe, expect, it } from 'vitest';
import { DisconnectError, DisconnectReason, ProtocolError } from '../../lib/errors.js';
import type { Transport } from '../../lib/transport/transport.js';
import { sessionPair } from '../helpers/pairs.js';

describe('a fault of ours met on the peer input', () => {
  it('ends the session with a DISCONNECT naming it, not a dropped connection', async () => {
    const { client, server } = await sessionPair();
    const transport = (server as unknown as { transport: Transport }).transport;
    const deliver = transport.onMessage;
    transport.onMessage = (payload) => {
      // Stands for a bug in a message handler: a plain TypeError, not an SshError.
      if (payload[0] === 80) throw new TypeError('boom');
      return deliver(payload);
    };
    void client.request({ requestType: 'anything', wantReply: true }).catch(() => {});
    const clientEnd = await client.closed.then(() => undefined, (e: unknown) => e);
    expect(clientEnd).toBeInstanceOf(DisconnectError);
    expect((clientEnd as DisconnectError).reason).toBe(DisconnectReason.protocolError);
    expect((clientEnd as DisconnectError).message).toContain("Internal error while handling the peer's messages (TypeError: boom)");
    const serverEnd = await server.closed.then(() => undefined, (e: unknown) => e);
    expect(serverEnd).toBeInstanceOf(ProtocolError);
    expect((serverEnd as ProtocolError).cause).toBeInstanceOf(TypeError);
  });
});
