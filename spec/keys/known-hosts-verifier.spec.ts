/**
 * known_hosts checking as `ssh` does it: files hashed by `ssh-keygen -H`, `[host]:port` names,
 * `@cert-authority` and `@revoked` lines, a changed key, and StrictHostKeyChecking accept-new
 * appending a line that `ssh-keygen -F` then finds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { signCertificate } from '../../lib/keys/certificate.js';
import { checkKnownHosts, knownHostsLine, knownHostsVerifier } from '../../lib/keys/known-hosts-verifier.js';
import { exportPublicKey, KeyFormat } from '../../lib/keys/index.js';
import { testKeys } from '../auth/test-keys.js';
import { makeWorkDir, sshKeygen } from './helpers/key-tools.js';

let work: ReturnType<typeof makeWorkDir>;
beforeEach(() => {
  work = makeWorkDir();
});
afterEach(() => work.remove());

const line = async (hosts: string, key: Parameters<typeof exportPublicKey>[0], marker = ''): Promise<string> =>
  `${marker}${marker ? ' ' : ''}${hosts} ${(await exportPublicKey(key, KeyFormat.Ssh)).split(' ').slice(0, 2).join(' ')}`;

describe('checkKnownHosts', () => {
  it('trusts keys of files hashed by ssh-keygen -H, with and without ports', async () => {
    const keys = await testKeys();
    const path = work.path('known_hosts');
    writeFileSync(path, [await line('example.com', keys['ssh-ed25519']), await line('[example.com]:2222', keys['ssh-rsa'])].join('\n') + '\n');
    sshKeygen(['-H', '-f', path]);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    expect(text).not.toContain('example.com');
    expect(checkKnownHosts(text, { host: 'example.com' }, { publicKey: keys['ssh-ed25519'] }).status).toBe('trusted');
    expect(checkKnownHosts(text, { host: 'EXAMPLE.com', port: 22 }, { publicKey: keys['ssh-ed25519'] }).status).toBe('trusted');
    expect(checkKnownHosts(text, { host: 'example.com', port: 2222 }, { publicKey: keys['ssh-rsa'] }).status).toBe('trusted');
    expect(checkKnownHosts(text, { host: 'example.com', port: 2222 }, { publicKey: keys['ssh-ed25519'] }).status).toBe('unknown');
    expect(checkKnownHosts(text, { host: 'other.com' }, { publicKey: keys['ssh-ed25519'] }).status).toBe('unknown');
  });

  it('calls a different key of the same type changed, and a key of another type unknown', async () => {
    const keys = await testKeys();
    const text = `# comment\n${await line('h1,h2', keys['ecdsa-sha2-nistp384'])}\ngarbage line\n`;
    expect(checkKnownHosts(text, { host: 'h2' }, { publicKey: keys['ecdsa-sha2-nistp384'] }).status).toBe('trusted');
    const p384 = await import('../../lib/keys/key-pair.js').then((m) => m.generateKeyPair('ecdsa-sha2-nistp384'));
    const verdict = checkKnownHosts(text, { host: 'h1' }, { publicKey: p384 });
    expect(verdict.status).toBe('changed');
    expect(verdict.reason).toMatch(/ecdsa-sha2-nistp384 host key of h1 has CHANGED/);
    expect(checkKnownHosts(text, { host: 'h1' }, { publicKey: keys['ssh-ed25519'] }).status).toBe('unknown');
  });

  it('trusts host certificates of a @cert-authority for matching hosts and principals, and refuses @revoked keys', async () => {
    const keys = await testKeys();
    const ca = keys['ssh-rsa'];
    const certificate = await signCertificate({ publicKey: keys['ssh-ed25519'], caKey: ca, type: 'host', principals: ['db.example.org'] });
    const text = `${await line('*.example.org', ca, '@cert-authority')}\n`;
    const event = { publicKey: keys['ssh-ed25519'], certificate };
    expect(checkKnownHosts(text, { host: 'db.example.org' }, event).status).toBe('trusted');
    expect(checkKnownHosts(text, { host: 'db.example.com' }, event).status).toBe('unknown');
    const wrongName = checkKnownHosts(text, { host: 'web.example.org' }, event);
    expect(wrongName.status).toBe('changed');
    expect(wrongName.reason).toMatch(/does not name web\.example\.org/);
    const revoked = `${text}${await line('*', keys['ssh-ed25519'], '@revoked')}\n`;
    expect(checkKnownHosts(revoked, { host: 'db.example.org' }, event).status).toBe('revoked');
    const caRevoked = `${text}${await line('*', ca, '@revoked')}\n${await line('db.example.org', keys['ssh-ed25519'])}\n`;
    expect(checkKnownHosts(caRevoked, { host: 'db.example.org' }, event).status).toBe('revoked');
  });
});

describe('knownHostsVerifier', () => {
  it('refuses unknown hosts under yes, and under accept-new appends a (hashed) line ssh-keygen -F finds', async () => {
    const keys = await testKeys();
    const path = work.path('known_hosts');
    const strict = knownHostsVerifier({ path, host: 'new.example', port: 2200 });
    expect(await strict({ publicKey: keys['ssh-ed25519'] })).toBe(false);
    const verdicts: string[] = [];
    for (const hashHosts of [false, true]) {
      const host = hashHosts ? 'hashed.example' : 'new.example';
      const acceptNew = knownHostsVerifier({
        path,
        host,
        port: 2200,
        strictHostKeyChecking: 'accept-new',
        hashHosts,
        onVerdict: (v) => verdicts.push(`${v.status}${v.added ? '+added' : ''}`),
      });
      expect(await acceptNew({ publicKey: keys['ssh-ed25519'] })).toBe(true);
      expect(await acceptNew({ publicKey: keys['ssh-ed25519'] })).toBe(true);
      expect(sshKeygen(['-F', `[${host}]:2200`, '-f', path])).toContain(hashHosts ? '|1|' : `[${host}]:2200 ssh-ed25519`);
      const changed = await import('../../lib/keys/key-pair.js').then((m) => m.generateKeyPair('ssh-ed25519'));
      expect(await acceptNew({ publicKey: changed })).toBe(false);
    }
    expect(verdicts).toEqual(['unknown+added', 'trusted', 'changed', 'unknown+added', 'trusted', 'changed']);
    expect(await knownHostsLine({ host: 'a.b' }, keys['ssh-ed25519'], false)).toMatch(/^a\.b ssh-ed25519 AAAA/);
  });
});
