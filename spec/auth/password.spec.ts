import { describe, expect, it } from 'vitest';
import { decodePasswordFields, encodePasswordFields } from '../../lib/auth/password.js';
import { decode, encode } from '../../lib/codec/schema.js';
import { UserauthBanner, UserauthFailure, UserauthRequest } from '../../lib/codec/messages/userauth.js';

describe('password request fields', () => {
  it.each([[{ password: 'pw' }], [{ password: 'old', newPassword: 'nëw' }]])('round-trips %j', (fields) => {
    expect(decodePasswordFields(encodePasswordFields(fields))).toEqual({ newPassword: undefined, ...fields });
  });

  it('reports invalid UTF-8 by offset without quoting the bytes', () => {
    const bytes = new Uint8Array([0, 0, 0, 0, 2, 0xc3, 0x28]);
    expect(() => decodePasswordFields(bytes)).toThrow(/^UserauthRequest\(password\): invalid UTF-8 at offset 1$/);
  });
});

describe('userauth messages', () => {
  it('encodes FAILURE as a name-list and a boolean (RFC 4252 §5.1)', () => {
    const payload = encode(UserauthFailure, { authenticationsThatCanContinue: ['publickey', 'password'], partialSuccess: true });
    expect(payload).toEqual(new Uint8Array([51, 0, 0, 0, 18, ...new TextEncoder().encode('publickey,password'), 1]));
    expect(decode(UserauthFailure, payload).authenticationsThatCanContinue).toEqual(['publickey', 'password']);
  });

  it('keeps the method fields of a request for the method to decode', () => {
    const request = { userName: 'u', serviceName: 'ssh-connection', methodName: 'none', methodFields: new Uint8Array([7]) };
    expect(decode(UserauthRequest, encode(UserauthRequest, request))).toEqual(request);
  });

  it('round-trips a banner', () => {
    const banner = { message: 'Hello\r\n', languageTag: 'en' };
    expect(decode(UserauthBanner, encode(UserauthBanner, banner))).toEqual(banner);
  });
});
