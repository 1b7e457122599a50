import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHostKey, knownHostsName, type HostKeyCheckOptions } from '../../lib/cli/host-key-check.js';
import { generateKeyPair, type KeyPair } from '../../lib/keys/key-pair.js';
import { exportPublicKey } from '../../lib/keys/index.js';

describe('checkHostKey', () => {
  let dir: string;
  let file: string;
  let key: KeyPair;
  let other: KeyPair;
  let warnings: string[];
  let questions: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-streams-known-'));
    file = join(dir, 'ssh', 'known_hosts');
    [key, other] = await Promise.all([generateKeyPair('ssh-ed25519'), generateKeyPair('ssh-ed25519')]);
    warnings = [];
    questions = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const options = (overrides: Partial<HostKeyCheckOptions> = {}): HostKeyCheckOptions => ({
    host: 'server.test',
    port: 2222,
    policy: 'yes',
    knownHostsFiles: [file],
    ask: async (question) => {
      questions.push(question);
      return 'no';
    },
    warn: (message) => void warnings.push(message),
    ...overrides,
  });
  const line = async (name: string, k: KeyPair): Promise<string> => `${name} ${await exportPublicKey(k)}\n`;
  const writeKnown = (text: string): void => {
    rmSync(join(dir, 'ssh'), { recursive: true, force: true });
    writeFileSync(join(dir, 'known'), text);
    file = join(dir, 'known');
  };

  it('accepts a key known_hosts has for the host and port', async () => {
    writeKnown(await line('[server.test]:2222', key));
    expect(await checkHostKey(key, options())).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('matches hashed host names', async () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[server.test]:2222').digest();
    writeKnown(await line(`|1|${salt.toString('base64')}|${hash.toString('base64')}`, key));
    expect(await checkHostKey(key, options())).toBe(true);
  });

  it('refuses a changed key under every policy, and a revoked one', async () => {
    writeKnown(await line('[server.test]:2222', other));
    for (const policy of ['ask', 'accept-new', 'yes', 'no'] as const) {
      expect(await checkHostKey(key, options({ policy }))).toBe(false);
    }
    expect(warnings[0]).toMatch(/host key of \[server\.test\]:2222 has changed \(now SHA256:/);
    expect(questions).toEqual([]);
    writeKnown((await line('[server.test]:2222', key)) + `@revoked * ${await exportPublicKey(key)}\n`);
    expect(await checkHostKey(key, options())).toBe(false);
    expect(warnings.at(-1)).toMatch(/marked as revoked/);
  });

  it('refuses an unknown host in strict mode and writes nothing', async () => {
    expect(await checkHostKey(key, options({ policy: 'yes' }))).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/No ssh-ed25519 host key is known for \[server\.test\]:2222 and strict host key checking is on/)]);
    expect(() => readFileSync(file)).toThrow();
  });

  it('adds an unknown host for accept-new, then knows it', async () => {
    expect(await checkHostKey(key, options({ policy: 'accept-new' }))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(`[server.test]:2222 ${(await exportPublicKey(key)).split(' ').slice(0, 2).join(' ')}\n`);
    expect(await checkHostKey(key, options({ policy: 'yes' }))).toBe(true);
    expect(await checkHostKey(other, options({ policy: 'accept-new' }))).toBe(false);
  });

  it('asks about an unknown host and follows the answer', async () => {
    expect(await checkHostKey(key, options({ policy: 'ask' }))).toBe(false);
    expect(questions[0]).toMatch(/authenticity of host '\[server\.test\]:2222'[\s\S]*SHA256:[\s\S]*\(yes\/no\)\? $/);
    expect(await checkHostKey(key, options({ policy: 'ask', ask: async () => 'yes' }))).toBe(true);
    expect(await checkHostKey(key, options({ policy: 'yes' }))).toBe(true);
  });

  it('skips unreadable lines and writes bare names for port 22', async () => {
    writeKnown('garbage line\n@bogus x y\n' + (await line('server.test', key)));
    expect(await checkHostKey(key, options({ port: 22 }))).toBe(true);
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('h', 2200)).toBe('[h]:2200');
  });
});
