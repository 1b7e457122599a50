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
import { keyTypes, testKeys } from '../auth/test-keys.js';

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

describe('AgentClient.addKey with certificates and constraints, against AgentServer', () => {
  it('adds a certified key of every type as the key and its certificate; each signs and verifies', async () => {
    const keys = await testKeys();
    const server = new AgentServer();
    const agent = await connected(server);
    const data = new TextEncoder().encode('signed through a certificate identity');
    for (const type of keyTypes) {
      const certificate = await signCertificate({ publicKey: keys[type], caKey: keys['ssh-ed25519'], keyId: `cert-${type}`, principals: ['alice'] });
      await agent.addKey({ key: keys[type], certificate }, { comment: `certified ${type}` });
      const listed = (await agent.listKeys()).filter((k) => k.comment === `certified ${type}`);
      expect(listed.map((k) => k.certificate?.keyId ?? k.publicKey.keyType)).toEqual([type, `cert-${type}`]);
      expect(listed[1]!.blob).toEqual(certificate.blob);
      const algorithm = type === 'ssh-rsa' ? 'rsa-sha2-256' : undefined;
      const signature = await agent.sign(listed[1]!, data, algorithm);
      expect(await keys[type].verify(data, signature, algorithm ? [algorithm] : undefined)).toBe(true);
    }
    expect(server.keys).toHaveLength(2 * keyTypes.length);
    await agent.close();
  });

  it('keeps a lifetime-constrained key until its lifetime ends on the injected clock', async () => {
    const keys = await testKeys();
    let now = 1_000_000;
    const server = new AgentServer([], { now: () => now });
    const agent = await connected(server);
    await agent.addKey(keys['ssh-ed25519'], { comment: 'short-lived', lifetime: 60 });
    await agent.addKey(keys['ecdsa-sha2-nistp256'], 'forever');
    expect(server.keys[0]).toMatchObject({ comment: 'short-lived', expiresAt: 1_060_000 });
    now += 59_999;
    expect((await agent.listKeys()).map((k) => k.comment)).toEqual(['short-lived', 'forever']);
    await agent.sign(keys['ssh-ed25519'], Uint8Array.of(1));
    now += 1;
    expect((await agent.listKeys()).map((k) => k.comment)).toEqual(['forever']);
    await expect(agent.sign(keys['ssh-ed25519'], Uint8Array.of(1))).rejects.toThrow(AgentError);
    await agent.close();
  });

  it('asks before each signature with a confirm-constrained key, and refuses when told no or when nobody can be asked', async () => {
    const keys = await testKeys();
    const asked: string[] = [];
    let answer = true;
    const server = new AgentServer([], { confirm: (k) => (asked.push(k.comment), answer) });
    const agent = await connected(server);
    await agent.addKey(keys['ssh-ed25519'], { comment: 'ask me', confirm: true });
    await agent.addKey(keys['ecdsa-sha2-nistp256'], 'no questions');
    await agent.sign(keys['ssh-ed25519'], Uint8Array.of(1));
    await agent.sign(keys['ecdsa-sha2-nistp256'], Uint8Array.of(1));
    answer = false;
    await expect(agent.sign(keys['ssh-ed25519'], Uint8Array.of(2))).rejects.toThrow(/SSH_AGENT_FAILURE/);
    expect(asked).toEqual(['ask me', 'ask me']);
    const unattended = await connected(new AgentServer());
    await unattended.addKey(keys['ssh-ed25519'], { confirm: true });
    await expect(unattended.sign(keys['ssh-ed25519'], Uint8Array.of(1))).rejects.toThrow(AgentError);
    await agent.close();
    await unattended.close();
  });

  it('refuses a lifetime that is not a whole number of seconds before sending anything', async () => {
    const keys = await testKeys();
    const agent = await connected(new AgentServer());
    await expect(agent.addKey(keys['ssh-ed25519'], { lifetime: 1.5 })).rejects.toThrow(/Key lifetime 1.5 is not a whole number of seconds/);
    await expect(agent.addKey(keys['ssh-ed25519'], { lifetime: 0 })).rejects.toThrow(AgentError);
    expect(await agent.listKeys()).toEqual([]);
    await agent.close();
  });
});
