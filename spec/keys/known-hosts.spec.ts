import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPublicKey, generateKeyPair, knownHostsMatches, parseKnownHostsLine, type KeyPair, type KnownHostsEntry } from '../../lib/keys/index.js';
import { makeWorkDir, sshKeygen, writeKeyFile } from './helpers/key-tools.js';

const work = makeWorkDir();
let key: KeyPair;
let plainLines: string[];

beforeAll(async () => {
  key = await generateKeyPair('ssh-ed25519', { comment: 'host key' });
  const line = await exportPublicKey(key);
  plainLines = [`example.com,192.0.2.10 ${line}`, `[example.com]:2222 ${line}`, `[alt.example.net]:2200,alt.example.net ${line}`];
});
afterAll(() => work.remove());

function entriesOf(text: string): KnownHostsEntry[] {
  return text.split('\n').map((l) => parseKnownHostsLine(l)).filter((e) => e !== undefined);
}

describe('parseKnownHostsLine', () => {
  it('reads markers, host lists, the key and its comment', async () => {
    const entry = parseKnownHostsLine(`@cert-authority *.example.com,!bad.example.com ${await exportPublicKey(key)}`)!;
    expect(entry.marker).toBe('@cert-authority');
    expect(entry.hosts).toEqual(['*.example.com', '!bad.example.com']);
    expect(entry.key.equals(key)).toBe(true);
    expect(entry.comment).toBe('host key');
    expect(parseKnownHostsLine('# comment')).toBeUndefined();
    expect(() => parseKnownHostsLine(`@trusted host ${plainLines[0]!.split(' ').slice(1).join(' ')}`)).toThrow(/Unknown known_hosts marker @trusted/);
    expect(() => parseKnownHostsLine('host-only')).toThrow(/expected "\[marker\] hosts key-type base64-key \[comment\]"/);
  });
});

describe('knownHostsMatches', () => {
  it('matches plain names, addresses and [host]:port entries by port', () => {
    const [plain, port2222, both] = entriesOf(plainLines.join('\n')) as [KnownHostsEntry, KnownHostsEntry, KnownHostsEntry];
    expect(knownHostsMatches(plain, 'example.com')).toBe(true);
    expect(knownHostsMatches(plain, 'EXAMPLE.com', 22)).toBe(true);
    expect(knownHostsMatches(plain, '192.0.2.10')).toBe(true);
    expect(knownHostsMatches(plain, 'example.com', 2222)).toBe(false);
    expect(knownHostsMatches(port2222, 'example.com', 2222)).toBe(true);
    expect(knownHostsMatches(port2222, 'example.com')).toBe(false);
    expect(knownHostsMatches(both, 'alt.example.net', 2200)).toBe(true);
    expect(knownHostsMatches(both, 'alt.example.net')).toBe(true);
  });

  it('matches names hashed by ssh-keygen -H, as ssh-keygen -F finds them', () => {
    const file = writeKeyFile(work.path('known_hosts'), `${plainLines.join('\n')}\n`);
    sshKeygen(['-H', '-f', file]);
    const hashedText = readFileSync(file, 'utf8');
    const hashed = entriesOf(hashedText);
    expect(hashed.every((e) => e.hosts.every((h) => h.startsWith('|1|')))).toBe(true);
    const probes: [string, number | undefined][] = [
      ['example.com', undefined],
      ['192.0.2.10', undefined],
      ['example.com', 2222],
      ['alt.example.net', 2200],
      ['alt.example.net', 22],
      ['other.example.com', undefined],
      ['example.com', 2200],
    ];
    let total = 0;
    for (const [host, port] of probes) {
      const name = port === undefined || port === 22 ? host : `[${host}]:${port}`;
      let found: number;
      try {
        found = sshKeygen(['-F', name, '-f', file]).split('\n').filter((l) => l.startsWith('|1|')).length;
      } catch {
        found = 0; // ssh-keygen -F exits 1 when nothing matches
      }
      expect(hashed.filter((e) => knownHostsMatches(e, host, port)).length, name).toBe(found);
      total += found;
    }
    expect(total).toBe(5);
  });

  it('applies * and ? wildcards, and a matching negation excludes the host', async () => {
    const entry = parseKnownHostsLine(`*.example.com,!bad.example.com,web-??.example.org ${await exportPublicKey(key)}`)!;
    expect(knownHostsMatches(entry, 'a.example.com')).toBe(true);
    expect(knownHostsMatches(entry, 'deep.a.example.com')).toBe(true);
    expect(knownHostsMatches(entry, 'example.com')).toBe(false);
    expect(knownHostsMatches(entry, 'bad.example.com')).toBe(false);
    expect(knownHostsMatches(entry, 'web-01.example.org')).toBe(true);
    expect(knownHostsMatches(entry, 'web-1.example.org')).toBe(false);
    const ported = parseKnownHostsLine(`[*.example.com]:* ${await exportPublicKey(key)}`)!;
    expect(knownHostsMatches(ported, 'a.example.com', 8022)).toBe(true);
    expect(knownHostsMatches(ported, 'a.example.com')).toBe(false);
  });

  it('matches a long wildcard pattern against a hostile name quickly', async () => {
    const entry = parseKnownHostsLine(`${'*a'.repeat(30)}b ${await exportPublicKey(key)}`)!;
    const started = performance.now();
    expect(knownHostsMatches(entry, 'a'.repeat(200))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
