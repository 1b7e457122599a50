import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../lib/errors.js';
import {
  decodeDirectTcpip,
  decodeForwardedTcpip,
  decodeTcpipForward,
  decodeTcpipForwardReply,
  encodeDirectTcpip,
  encodeForwardedTcpip,
  encodeTcpipForward,
  encodeTcpipForwardReply,
} from '../../lib/forwarding/messages.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('tcpip-forward payloads', () => {
  it('encodes the address to bind and the port as string and uint32 (RFC 4254 §7.1)', () => {
    const data = encodeTcpipForward({ addressToBind: 'localhost', portToBind: 8080 });
    expect(hex(data)).toBe('00000009' + Buffer.from('localhost').toString('hex') + '00001f90');
    expect(decodeTcpipForward(data)).toEqual({ addressToBind: 'localhost', portToBind: 8080 });
  });

  it('reads the bound port from the reply, and accepts a reply without one', () => {
    expect(hex(encodeTcpipForwardReply(40000))).toBe('00009c40');
    expect(decodeTcpipForwardReply(encodeTcpipForwardReply(40000))).toBe(40000);
    expect(decodeTcpipForwardReply(new Uint8Array(0))).toBeUndefined();
  });

  it.each([
    ['a truncated port', new Uint8Array([0, 0, 0, 0, 0, 0])],
    ['trailing bytes', new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 9])],
  ])('rejects a request with %s naming the message', (_, data) => {
    expect(() => decodeTcpipForward(data)).toThrow(ProtocolError);
    expect(() => decodeTcpipForward(data)).toThrow(/TcpipForwardRequest/);
  });
});

describe('forwarding channel open data', () => {
  it('round-trips direct-tcpip: host and port to connect, then the originator (RFC 4254 §7.2)', () => {
    const value = { hostToConnect: 'example.org', portToConnect: 443, originatorAddress: '10.0.0.1', originatorPort: 51000 };
    const data = encodeDirectTcpip(value);
    expect(hex(data)).toBe(
      '0000000b' + Buffer.from('example.org').toString('hex') + '000001bb' + '00000008' + Buffer.from('10.0.0.1').toString('hex') + '0000c738',
    );
    expect(decodeDirectTcpip(data)).toEqual(value);
  });

  it('round-trips forwarded-tcpip: the address and port connected, then the originator', () => {
    const value = { connectedAddress: '', connectedPort: 2222, originatorAddress: '::1', originatorPort: 1 };
    expect(decodeForwardedTcpip(encodeForwardedTcpip(value))).toEqual(value);
  });

  it('rejects open data cut short, naming the field', () => {
    const data = encodeDirectTcpip({ hostToConnect: 'h', portToConnect: 1, originatorAddress: 'o', originatorPort: 2 });
    expect(() => decodeDirectTcpip(data.subarray(0, data.length - 2))).toThrow(/DirectTcpipOpen\.originatorPort/);
  });
});
