import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPublicKey, generateKeyPair, getFingerprint, parseAuthorizedKeysLine, type KeyPair } from '../../lib/keys/index.js';
import { makeWorkDir, sshKeygen, writeKeyFile } from './helpers/key-tools.js';

const work = makeWorkDir();
let ed: KeyPair;
let ec: KeyPair;

beforeAll(async () => {
  ed = await generateKeyPair('ssh-ed25519', { comment: 'alice@laptop' });
  ec = await generateKeyPair('ecdsa-sha2-nistp256', { comment: 'bob' });
});
afterAll(() => work.remove());

describe('parseAuthorizedKeysLine', () => {
  it('reads a bare key line with its comment', async () => {
    const entry = parseAuthorizedKeysLine(await exportPublicKey(ed))!;
    expect(entry.options).toEqual([]);
    expect(entry.key.equals(ed)).toBe(true);
    expect(entry.comment).toBe('alice@laptop');
  });

  it('reads flags and quoted options, including escaped quotes, commas and spaces in values', async () => {
    const line = `from="10.0.0.0/8,*.example.com",command="echo \\"hi, there\\"",no-pty,permitopen="db:5432",environment="A=1" ${await exportPublicKey(ec)}`;
    const entry = parseAuthorizedKeysLine(line)!;
    expect(entry.options).toEqual([
      { name: 'from', value: '10.0.0.0/8,*.example.com' },
      { name: 'command', value: 'echo "hi, there"' },
      { name: 'no-pty', value: undefined },
      { name: 'permitopen', value: 'db:5432' },
      { name: 'environment', value: 'A=1' },
    ]);
    expect(entry.key.equals(ec)).toBe(true);
    expect(entry.comment).toBe('bob');
  });

  it('agrees with ssh-keygen -l on every key of an authorized_keys file with options', async () => {
    const lines = [
      '# a comment line',
      '',
      `restrict,pty ${await exportPublicKey(ed)}`,
      `command="/bin/true" ${await exportPublicKey(ec)}`,
    ];
    const file = writeKeyFile(work.path('authorized_keys'), `${lines.join('\n')}\n`);
    const ours = lines.map((l) => parseAuthorizedKeysLine(l)).filter((e) => e !== undefined).map((e) => getFingerprint(e.key));
    const theirs = sshKeygen(['-l', '-f', file]).trim().split('\n').map((l) => l.split(' ')[1]);
    expect(ours).toEqual(theirs);
  });

  it('skips blank lines and comments', () => {
    expect(parseAuthorizedKeysLine('   ')).toBeUndefined();
    expect(parseAuthorizedKeysLine('# ssh-ed25519 AAAA')).toBeUndefined();
  });

  it.each([
    ['from="unterminated ssh-ed25519 AAAA', /unterminated quoted value/],
    ['from=unquoted ssh-ed25519 AAAA', /must have a double-quoted value/],
    ['no-pty,,x ssh-ed25519 AAAA', /empty option/],
    ['sk-ssh-ed25519@openssh.com AAAA', /Unsupported key type sk-ssh-ed25519@openssh.com/],
    ['no-pty ssh-ed25519 !!!!', /not valid base64/],
  ])('refuses %j', (line, message) => {
    expect(() => parseAuthorizedKeysLine(line)).toThrow(message);
  });
});
