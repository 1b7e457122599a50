/**
 * AgentClient against our AgentServer over in-memory pipes, and against hostile agents: listing,
 * signing with the RSA SHA-2 flags (signatures verified), adding, removing, locking; truncated,
 * oversized, unsolicited and malformed replies end in an AgentError, never a hang.
 */
import { describe, expect, it } from 'vitest';
import { AgentClient } from '../../lib/agent/agent-client.js';
import { AgentServer } from '../../lib/agent/agent-server.js';
import { AgentError } from '../../lib/agent/agent-error.js';
import { AgentMessage, encodeIdentitiesAnswer, frameAgentMessage } from '../../lib/agent/protocol.js';
import { signCertificate } from '../../lib/keys/certificate.js';
import { duplexPair } from '../helpers/pipes.js';
import { testKeys } from '../auth/test-keys.js';

async function connected(server: AgentServer): Promise<AgentClient> {
  const [a, b] = duplexPair();
  void server.serve(b);
  return new AgentClient(a);
}

/** An agent that answers every request with `reply` (raw bytes, framing included). */
function hostileAgent(reply: Uint8Array, options: { end?: boolean } = {}): AgentClient {
  const [a, b] = duplexPair();
  void (async () => {
    const reader = b.readable.getReader();
    const writer = b.writable.getWriter();
    await reader.read();
    await writer.write(reply);
    if (options.end) await writer.close();
  })();
  return new AgentClient(a);
}

describe('AgentClient with AgentServer', () => {
  it('lists keys and certificates, and signs with each (RSA under both SHA-2 flags)', async () => {
    const keys = await testKeys();
    const certificate = await signCertificate({ publicKey: keys['ecdsa-sha2-nistp256'], caKey: keys['ssh-ed25519'], keyId: 'cert' });
    const server = new AgentServer([keys['ssh-ed25519'], keys['ssh-rsa'], { key: keys['ecdsa-sha2-nistp256'], certificate }]);
    const agent = await connected(server);
    const listed = await agent.listKeys();
    expect(listed.map((k) => k.certificate?.keyId ?? k.publicKey.keyType)).toEqual(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'cert']);
    const data = new TextEncoder().encode('to be signed');
    for (const identity of listed) {
      for (const algorithm of identity.publicKey.keyType === 'ssh-rsa' ? ['rsa-sha2-256', 'rsa-sha2-512'] : [undefined]) {
        const signature = await agent.sign(identity, data, algorithm);
        expect(await identity.publicKey.verify(data, signature, algorithm ? [algorithm] : undefined)).toBe(true);
      }
    }
    await agent.close();
  });

  it('adds, removes, locks and unlocks', async () => {
    const keys = await testKeys();
    const server = new AgentServer();
    const agent = await connected(server);
    for (const key of Object.values(keys)) await agent.addKey(key, `added ${key.keyType}`);
    expect((await agent.listKeys()).map((k) => k.comment)).toHaveLength(5);
    await agent.removeKey(keys['ssh-rsa']);
    await expect(agent.removeKey(keys['ssh-rsa'])).rejects.toThrow(/Agent refused to remove key/);
    expect((await agent.listKeys()).map((k) => k.publicKey.keyType)).not.toContain('ssh-rsa');
    await agent.lock('pw');
    expect(await agent.listKeys()).toEqual([]);
    await expect(agent.sign(keys['ssh-ed25519'], Uint8Array.of(1))).rejects.toThrow(/SSH_AGENT_FAILURE/);
    await expect(agent.unlock('wrong')).rejects.toThrow(AgentError);
    await agent.unlock('pw');
    expect(await agent.listKeys()).toHaveLength(4);
    await agent.removeAllKeys();
    expect(await agent.listKeys()).toEqual([]);
    expect(server.keys).toEqual([]);
  });
});

describe('AgentClient with a hostile agent', () => {
  it('fails on a reply cut off by the end of the connection', async () => {
    const reply = encodeIdentitiesAnswer([{ blob: new Uint8Array(100), comment: 'x' }]);
    await expect(hostileAgent(reply.subarray(0, 50), { end: true }).listKeys()).rejects.toThrow(/truncated by the end of the connection/);
  });

  it('fails on a reply longer than the bound without buffering it', async () => {
    await expect(hostileAgent(Uint8Array.of(0x10, 0, 0, 0, 12)).listKeys()).rejects.toThrow(/Agent message of 268435456 bytes is outside/);
  });

  it('fails on malformed and unexpected replies, and every later request fails too', async () => {
    const agent = hostileAgent(frameAgentMessage(AgentMessage.identitiesAnswer, Uint8Array.of(0, 0, 0, 1, 0, 0)));
    await expect(agent.listKeys()).rejects.toThrow(/Malformed agent identities answer/);
    const closed = hostileAgent(new Uint8Array(0), { end: true });
    await expect(closed.listKeys()).rejects.toThrow(/Agent closed the connection/);
    await expect(closed.listKeys()).rejects.toThrow(/Agent closed the connection/);
    const keys = await testKeys();
    const rsaSha1 = hostileAgent(frameAgentMessage(AgentMessage.signResponse, Uint8Array.of(0, 0, 0, 15, 0, 0, 0, 7, ...new TextEncoder().encode('ssh-rsa'), 0, 0, 0, 0)));
    await expect(rsaSha1.sign(keys['ssh-rsa'], Uint8Array.of(1), 'rsa-sha2-512')).rejects.toThrow(/Agent signed with ssh-rsa instead of rsa-sha2-512/);
  });

  it('skips identities of key types it cannot use', async () => {
    const keys = await testKeys();
    const answer = encodeIdentitiesAnswer([
      { blob: new Uint8Array([0, 0, 0, 7, ...new TextEncoder().encode('ssh-dss')]), comment: 'dsa' },
      { blob: keys['ssh-ed25519'].publicKeyBlob, comment: 'ok' },
    ]);
    expect((await hostileAgent(answer).listKeys()).map((k) => k.comment)).toEqual(['ok']);
  });
});
