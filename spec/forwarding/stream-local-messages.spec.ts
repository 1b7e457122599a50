import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../lib/errors.js';
import {
  decodeDirectStreamLocal,
  decodeForwardedStreamLocal,
  decodeStreamLocalForward,
  encodeDirectStreamLocal,
  encodeForwardedStreamLocal,
  encodeStreamLocalForward,
} from '../../lib/forwarding/stream-local-messages.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sshString = (s: string): string => Buffer.concat([Buffer.from([0, 0, 0, s.length]), Buffer.from(s)]).toString('hex');

describe('stream-local messages (OpenSSH PROTOCOL §2.4)', () => {
  it('encodes streamlocal-forward as the socket path alone', () => {
    expect(hex(encodeStreamLocalForward('/tmp/a.sock'))).toBe(sshString('/tmp/a.sock'));
    expect(decodeStreamLocalForward(encodeStreamLocalForward('/run/x'))).toEqual({ socketPath: '/run/x' });
  });

  it('encodes direct-streamlocal as path, empty reserved string and zero reserved uint32', () => {
    expect(hex(encodeDirectStreamLocal('/s'))).toBe(`${sshString('/s')}${sshString('')}00000000`);
    expect(decodeDirectStreamLocal(encodeDirectStreamLocal('/s')).socketPath).toBe('/s');
  });

  it('reads a direct-streamlocal open that stops after the path', () => {
    expect(decodeDirectStreamLocal(Buffer.from(sshString('/only'), 'hex')).socketPath).toBe('/only');
  });

  it('encodes forwarded-streamlocal as path and empty reserved string', () => {
    expect(hex(encodeForwardedStreamLocal('/f'))).toBe(`${sshString('/f')}${sshString('')}`);
    expect(decodeForwardedStreamLocal(encodeForwardedStreamLocal('/f')).socketPath).toBe('/f');
  });

  it('rejects truncated and trailing data with a ProtocolError', () => {
    expect(() => decodeStreamLocalForward(new Uint8Array([0, 0, 0, 9, 47]))).toThrow(ProtocolError);
    expect(() => decodeStreamLocalForward(Buffer.concat([encodeStreamLocalForward('/a'), Buffer.from([1])]))).toThrow(ProtocolError);
  });
});
