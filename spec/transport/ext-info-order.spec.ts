/**
 * RFC 8308 §2.4: the server's EXT_INFO is the packet right after its first NEWKEYS, in the same
 * write, so a client has `server-sig-algs` before it sends anything encrypted — without waiting a
 * round trip for the client's NEWKEYS.
 */
import { describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { ClientSession } from '../../lib/client-session.js';
import { ServerSession } from '../../lib/server-session.js';
import { duplexPair, flushAsyncEvents } from '../helpers/pipes.js';
import { testHostKey } from '../helpers/pairs.js';
import { CleartextFraming, framedWrites } from '../helpers/cleartext-framing.js';

const NEWKEYS = 21;

describe('EXT_INFO without delay', () => {
  it("the server's EXT_INFO reaches the client while the client's NEWKEYS is still held back", async () => {
    const [a, b] = duplexPair();
    const hostKey = await testHostKey();
    const fromClient = new CleartextFraming({ goPadding: false });
    const fromServer = new CleartextFraming({ goPadding: false });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    // The chunk that carries the client's NEWKEYS waits until the test lets it go.
    const clientLink = framedWrites(a, fromClient, (_chunk, log) => {
      if (held || !log.types.includes(NEWKEYS)) return undefined;
      held = true;
      return released;
    });
    const client = new ClientSession(SessionConfig.default());
    const server = new ServerSession(SessionConfig.default(), { hostKeys: [hostKey] });
    client.onAuthenticating = (e) => e.publicKey.equals(hostKey);
    server.onAuthenticating = (e) => e.username === 'user' && e.password === 'secret';
    const serverConnected = server.connect(framedWrites(b, fromServer));
    try {
      await client.connect(clientLink);
      await flushAsyncEvents(4);
      expect(held).toBe(true);
      expect(client.peerExtensions?.get('server-sig-algs')).toContain('rsa-sha2-256');

      // On the wire: the server's NEWKEYS and exactly one sealed packet after it share one chunk.
      const index = fromServer.log.chunks.findIndex((chunk) => containsNewKeysPacket(chunk));
      expect(index).toBeGreaterThanOrEqual(0);
      const chunk = fromServer.log.chunks[index]!;
      const afterNewKeys = chunk.subarray(newKeysEnd(chunk));
      const algorithms = client.algorithms!;
      expect(algorithms.encryptionServerToClient).toBe('aes256-gcm@openssh.com');
      // AES-GCM keeps packet_length in clear: 4 + packet_length + 16-byte tag is the whole rest.
      const sealedLength = new DataView(afterNewKeys.buffer, afterNewKeys.byteOffset).getUint32(0);
      expect(afterNewKeys.length).toBe(4 + sealedLength + 16);

      release();
      await serverConnected;
      expect(await client.authenticate({ username: 'user', password: 'secret' })).toBe(true);
    } finally {
      release();
      await client.close();
      await server.close();
    }
  });
});

/** A cleartext NEWKEYS packet: packet_length 12, padding 10, message 21 (what our writer emits). */
function containsNewKeysPacket(chunk: Uint8Array): boolean {
  return newKeysEnd(chunk) > 0;
}

function newKeysEnd(chunk: Uint8Array): number {
  for (let i = 0; i + 6 <= chunk.length; i++) {
    const view = new DataView(chunk.buffer, chunk.byteOffset + i);
    const packetLength = view.getUint32(0);
    if (packetLength === 12 && chunk[i + 4] === 10 && chunk[i + 5] === NEWKEYS) return i + 4 + packetLength;
  }
  return -1;
}
