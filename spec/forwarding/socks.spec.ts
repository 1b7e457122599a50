/**
 * The SOCKS handshake core of dynamic forwarding: SOCKS4, 4a and 5 (RFC 1928: no authentication,
 * CONNECT to IPv4, IPv6 and domain names) however the bytes are cut, bytes after the request kept,
 * replies for each outcome, and any garbage ending in a SocksError, never anything else.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SocksError, SocksHandshake, socksReply, type SocksProgress } from '../../lib/forwarding/socks.js';

const ascii = (s: string): number[] => [...new TextEncoder().encode(s)];

/** Feeds `bytes` one chunk size at a time; returns every progress merged. */
function feed(bytes: number[], chunk = bytes.length): SocksProgress & { replies: number[] } {
  const handshake = new SocksHandshake();
  const replies: number[] = [];
  let last: SocksProgress = {};
  for (let i = 0; i < bytes.length && !last.target; i += chunk) {
    last = handshake.push(Uint8Array.from(bytes.slice(i, i + chunk)));
    if (last.reply) replies.push(...last.reply);
    if (last.target) {
      const rest = [...(last.rest ?? []), ...bytes.slice(i + chunk)];
      return { ...last, rest: Uint8Array.from(rest), replies };
    }
  }
  return { ...last, replies };
}

const requests = {
  socks4: [4, 1, 0x1f, 0x90, 10, 1, 2, 3, ...ascii('user'), 0],
  socks4a: [4, 1, 0, 80, 0, 0, 0, 1, 0, ...ascii('example.com'), 0],
  socks5ipv4: [5, 2, 2, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90],
  socks5ipv6: [5, 1, 0, 5, 1, 0, 4, ...Array<number>(15).fill(0), 1, 0, 22],
  socks5domain: [5, 1, 0, 5, 1, 0, 3, 9, ...ascii('localhost'), 1, 187],
};

describe('SocksHandshake', () => {
  it('reads each request kind, whatever the chunking, keeping what follows', () => {
    const expected = {
      socks4: { version: 4, host: '10.1.2.3', port: 8080 },
      socks4a: { version: 4, host: 'example.com', port: 80 },
      socks5ipv4: { version: 5, host: '127.0.0.1', port: 8080 },
      socks5ipv6: { version: 5, host: '0:0:0:0:0:0:0:1', port: 22 },
      socks5domain: { version: 5, host: 'localhost', port: 443 },
    } as const;
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(requests) as (keyof typeof requests)[])), fc.integer({ min: 1, max: 40 }), fc.uint8Array({ maxLength: 20 }), (kind, chunk, tail) => {
        const result = feed([...requests[kind], ...tail], chunk);
        expect(result.target).toEqual(expected[kind]);
        expect([...result.rest!]).toEqual([...tail]);
        expect(result.replies).toEqual(kind.startsWith('socks5') ? [5, 0] : []);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what it does not serve with the matching SOCKS reply', () => {
    const cases: [number[], RegExp, number[] | undefined][] = [
      [[5, 1, 2], /offers no method we accept \(2\)/, [5, 0xff]],
      [[5, 0], /lists no methods/, [5, 0xff]],
      [[5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80], /command 2 is not supported/, [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]],
      [[5, 1, 0, 5, 1, 0, 9], /address type 9/, [5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0]],
      [[4, 2, 0, 80, 1, 2, 3, 4, 0], /SOCKS4 command 2/, [0, 91, 0, 0, 0, 0, 0, 0]],
      [[6], /Unknown SOCKS version 6/, undefined],
      [[5, 1, 0, 5, 1, 0, 3, 2, 0x0a, 0x41, 0, 80], /SOCKS5 domain name is not printable/, [5, 0]],
    ];
    for (const [bytes, message, reply] of cases) {
      const error = (() => {
        try {
          feed(bytes);
        } catch (e) {
          return e as SocksError;
        }
        throw new Error(`accepted ${bytes}`);
      })();
      expect(error).toBeInstanceOf(SocksError);
      expect(error.message).toMatch(message);
      expect(error.reply === undefined ? undefined : [...error.reply]).toEqual(reply);
    }
  });

  it('bounds an endless SOCKS4 user id', () => {
    const handshake = new SocksHandshake();
    handshake.push(Uint8Array.of(4, 1, 0, 80, 1, 2, 3, 4));
    expect(() => {
      for (let i = 0; i < 10; i++) handshake.push(new Uint8Array(200).fill(0x41));
    }).toThrow(/longer than 1024 bytes/);
  });

  it('turns any bytes into progress or a SocksError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), fc.constantFrom(4, 5), (chunks, version) => {
        const handshake = new SocksHandshake();
        try {
          handshake.push(Uint8Array.of(version));
          for (const chunk of chunks) if (!handshake.push(chunk).target) continue;
        } catch (error) {
          expect(error).toBeInstanceOf(SocksError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('maps channel-open failures onto SOCKS replies', () => {
    expect([...socksReply(5)]).toEqual([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(socksReply(5, 2)[1]).toBe(5);
    expect(socksReply(5, 1)[1]).toBe(2);
    expect(socksReply(5, 4)[1]).toBe(1);
    expect([...socksReply(4)]).toEqual([0, 90, 0, 0, 0, 0, 0, 0]);
    expect(socksReply(4, 2)[1]).toBe(91);
  });
});
