import { describe, expect, it } from 'vitest';
import { KeyError } from '../../../lib/errors.js';
import { bytesToKey, decryptLegacyPem, readPemBlocks, writePem } from '../../../lib/keys/formats/pem.js';
import { openssl } from '../helpers/key-tools.js';

describe('bytesToKey', () => {
  it.each([16, 24, 32])('derives the %i-byte key openssl enc -md md5 derives', (length) => {
    const cipher = { 16: 'aes-128-cbc', 24: 'aes-192-cbc', 32: 'aes-256-cbc' }[length]!;
    const out = openssl(['enc', `-${cipher}`, '-P', '-md', 'md5', '-S', '0102030405060708', '-pass', 'pass:secret']);
    const key = /key=([0-9A-F]+)/.exec(out)![1]!.toLowerCase();
    expect(Buffer.from(bytesToKey(Buffer.from('secret'), Buffer.from('0102030405060708', 'hex'), length)).toString('hex')).toBe(key);
  });
});

describe('readPemBlocks', () => {
  it('reads headers with continuation lines, skips text around blocks and reads several blocks', () => {
    const text = [
      'Bag Attributes: ignored',
      '-----BEGIN EC PARAMETERS-----',
      'BggqhkjOPQMBBw==',
      '-----END EC PARAMETERS-----',
      '-----BEGIN RSA PRIVATE KEY-----',
      'Proc-Type: 4,ENCRYPTED',
      'DEK-Info: AES-128-CBC,',
      ' 00112233445566778899AABBCCDDEEFF',
      '',
      'AAECAw==',
      '-----END RSA PRIVATE KEY-----',
    ].join('\r\n');
    const blocks = readPemBlocks(text);
    expect(blocks.map((b) => b.label)).toEqual(['EC PARAMETERS', 'RSA PRIVATE KEY']);
    expect(blocks[1]!.headers.get('DEK-Info')).toBe('AES-128-CBC,00112233445566778899AABBCCDDEEFF');
    expect([...blocks[1]!.body]).toEqual([0, 1, 2, 3]);
  });

  it('round-trips writePem output with headers', () => {
    const body = new Uint8Array(100).map((_, i) => i);
    const [block] = readPemBlocks(writePem('PRIVATE KEY', body, { headers: new Map([['Comment', 'x']]) }));
    expect(block!.headers.get('Comment')).toBe('x');
    expect(block!.body).toEqual(body);
  });

  it.each([
    ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /has no "-----END PUBLIC KEY-----" line/],
    ['-----BEGIN PUBLIC KEY-----\nAA*A\n-----END PUBLIC KEY-----\n', /does not contain valid base64/],
  ])('refuses malformed armor %j', (text, message) => {
    expect(() => readPemBlocks(text)).toThrow(message);
  });
});

describe('decryptLegacyPem', () => {
  it('names unsupported ciphers and bad IVs', () => {
    const block = (info: string) => ({ label: 'RSA PRIVATE KEY', headers: new Map([['Proc-Type', '4,ENCRYPTED'], ['DEK-Info', info]]), body: new Uint8Array(16) });
    expect(() => decryptLegacyPem(block('BF-CBC,0011223344556677'), 'x')).toThrow(/Unsupported PEM encryption "BF-CBC"/);
    expect(() => decryptLegacyPem(block('AES-128-CBC,0011'), 'x')).toThrow('PEM DEK-Info IV must be 16 bytes, got 2');
    expect(() => decryptLegacyPem(block('AES-128-CBC,00112233445566778899AABBCCDDEEFF'), undefined)).toThrow(KeyError);
  });
});
