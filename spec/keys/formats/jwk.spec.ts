import { describe, expect, it } from 'vitest';
import { exportPrivateKey, exportPublicKey, generateKeyPair, importKey, KeyFormat } from '../../../lib/keys/index.js';

describe('JWK import and export', () => {
  it('writes RFC 7518 members with the comment and reads them back', async () => {
    const key = await generateKeyPair('ecdsa-sha2-nistp384', { comment: 'jwk key' });
    const jwk = JSON.parse(await exportPrivateKey(key, KeyFormat.Jwk));
    expect(Object.keys(jwk)).toEqual(['kty', 'crv', 'x', 'y', 'd', 'comment']);
    expect(jwk.crv).toBe('P-384');
    const back = await importKey(JSON.stringify(jwk));
    expect(back.equals(key)).toBe(true);
    expect(back.comment).toBe('jwk key');
  });

  it('accepts the SSH curve names nistp256/384/521 for crv', async () => {
    const key = await generateKeyPair('ecdsa-sha2-nistp521');
    const jwk = JSON.parse(await exportPublicKey(key, KeyFormat.Jwk));
    const back = await importKey(JSON.stringify({ ...jwk, crv: 'nistp521' }));
    expect(back.equals(key)).toBe(true);
  });

  it('derives missing RSA CRT members and refuses public members that do not match the private key', async () => {
    const key = await generateKeyPair('rsa-sha2-256', { keySize: 2048 });
    const jwk = JSON.parse(await exportPrivateKey(key, KeyFormat.Jwk));
    delete jwk.dp;
    delete jwk.dq;
    expect((await importKey(JSON.stringify(jwk))).equals(key)).toBe(true);
    const ed = JSON.parse(await exportPrivateKey(await generateKeyPair('ssh-ed25519'), KeyFormat.Jwk));
    const other = JSON.parse(await exportPublicKey(await generateKeyPair('ssh-ed25519'), KeyFormat.Jwk));
    await expect(importKey(JSON.stringify({ ...ed, x: other.x }))).rejects.toThrow('Invalid ssh-ed25519 key: the public key does not match the private key');
    const ec = JSON.parse(await exportPrivateKey(await generateKeyPair('ecdsa-sha2-nistp256'), KeyFormat.Jwk));
    const otherEc = JSON.parse(await exportPublicKey(await generateKeyPair('ecdsa-sha2-nistp256'), KeyFormat.Jwk));
    await expect(importKey(JSON.stringify({ ...ec, x: otherEc.x, y: otherEc.y }))).rejects.toThrow(
      'Invalid ecdsa-sha2-nistp256 key: the public key does not match the private key',
    );
  });

  it('refuses an RSA CRT member that disagrees with the primes', async () => {
    const jwk = JSON.parse(await exportPrivateKey(await generateKeyPair('rsa-sha2-256', { keySize: 2048 }), KeyFormat.Jwk));
    await expect(importKey(JSON.stringify({ ...jwk, qi: jwk.dp }))).rejects.toThrow('JWK private member "qi" does not match the private key');
  });

  it.each([
    ['{"kty":"oct","k":"AA"}', /Unsupported JWK key type oct \(expected RSA, EC or OKP\)/],
    ['{"kty":"OKP","crv":"X25519","x":"AA"}', /Unsupported JWK OKP curve X25519 \(expected Ed25519\)/],
    ['{"kty":"EC","crv":"P-256","x":"AA"}', /JWK EC key member "y" must be a base64url string/],
    ['{"kty":', /Invalid JWK: not valid JSON/],
  ])('refuses %s', async (text, message) => {
    await expect(importKey(text)).rejects.toThrow(message);
  });
});
