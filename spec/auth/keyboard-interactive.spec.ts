import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../lib/errors.js';
import {
  decodeKeyboardInteractiveFields,
  decodeUserauthInfoRequest,
  decodeUserauthInfoResponse,
  encodeKeyboardInteractiveFields,
  encodeUserauthInfoRequest,
  encodeUserauthInfoResponse,
} from '../../lib/auth/keyboard-interactive.js';

describe('keyboard-interactive messages', () => {
  it('round-trips INFO_REQUEST with its prompts', () => {
    const request = {
      name: 'Login',
      instruction: 'Answer both',
      languageTag: '',
      prompts: [
        { prompt: 'Password: ', echo: false },
        { prompt: 'Türkçe: ', echo: true },
      ],
    };
    const payload = encodeUserauthInfoRequest(request);
    expect(payload[0]).toBe(60);
    expect(decodeUserauthInfoRequest(payload)).toEqual(request);
  });

  it('round-trips INFO_RESPONSE, including no responses', () => {
    expect(decodeUserauthInfoResponse(encodeUserauthInfoResponse(['a', '']))).toEqual(['a', '']);
    expect(decodeUserauthInfoResponse(encodeUserauthInfoResponse([]))).toEqual([]);
  });

  it('round-trips the request fields', () => {
    const fields = { languageTag: '', submethods: ['pam', 'skey'] };
    expect(decodeKeyboardInteractiveFields(encodeKeyboardInteractiveFields(fields))).toEqual(fields);
  });

  it('refuses a count the payload cannot hold before reading it', () => {
    const payload = new Uint8Array([61, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    expect(() => decodeUserauthInfoResponse(payload)).toThrow(ProtocolError);
    expect(() => decodeUserauthInfoResponse(payload)).toThrow(/count 4294967295 exceeds the 4 bytes left at offset 1/);
  });

  it('names the field but not the value of a malformed response', () => {
    const payload = encodeUserauthInfoResponse(['s3cret']);
    expect(() => decodeUserauthInfoResponse(payload.subarray(0, payload.length - 1))).toThrow(
      /^UserauthInfoResponse.responses: unexpected end of payload at offset 9/,
    );
  });

  it('rejects a message of another number', () => {
    expect(() => decodeUserauthInfoRequest(encodeUserauthInfoResponse([]))).toThrow(/Expected UserauthInfoRequest \(60\), got message 61/);
  });
});
