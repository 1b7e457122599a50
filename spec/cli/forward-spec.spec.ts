import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPortForward, parseDynamicForward, parsePortForward } from '../../lib/cli/forward-spec.js';
import { SshError } from '../../lib/errors.js';
import { propertyParameters } from '../helpers/property.js';

describe('parsePortForward', () => {
  it('reads ssh -L/-R specs with and without a bind address, IPv6 in brackets', () => {
    expect(parsePortForward('8080:localhost:80')).toEqual({ bindAddress: undefined, port: 8080, host: 'localhost', hostPort: 80 });
    expect(parsePortForward('0.0.0.0:0:10.0.0.5:22')).toEqual({ bindAddress: '0.0.0.0', port: 0, host: '10.0.0.5', hostPort: 22 });
    expect(parsePortForward('[::1]:9000:[fe80::1]:443')).toEqual({ bindAddress: '::1', port: 9000, host: 'fe80::1', hostPort: 443 });
    expect(parsePortForward(':2000:db:5432')).toEqual({ bindAddress: '', port: 2000, host: 'db', hostPort: 5432 });
  });

  it('round-trips every spec it formats', () => {
    const address = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.domain(),
      fc.constantFrom('localhost', ''),
    );
    const spec = fc.record({
      bindAddress: fc.option(address, { nil: undefined }),
      port: fc.integer({ min: 0, max: 65535 }),
      host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
      hostPort: fc.integer({ min: 1, max: 65535 }),
    });
    fc.assert(
      fc.property(spec, (s) => {
        expect(parsePortForward(formatPortForward(s))).toEqual(s);
      }),
      propertyParameters(),
    );
  });

  it.each([
    ['', /is not \[bind_address:\]port:host:hostport/],
    ['8080', /is not \[bind_address:\]port:host:hostport/],
    ['a:b:c:d:e', /is not \[bind_address:\]port:host:hostport/],
    ['http:localhost:80', /"http" is not a port \(0-65535\)/],
    ['8080:localhost:0', /"0" is not a port \(1-65535\)/],
    ['70000:localhost:80', /"70000" is not a port/],
    ['8080::80', /"" is not a host/],
    ['[::1:8080:localhost:80', /unclosed "\["/],
    ['[::1]x:8080:localhost:80', /text after "\]"/],
  ])('refuses %j with a clear error', (text, message) => {
    expect(() => parsePortForward(text)).toThrow(SshError);
    expect(() => parsePortForward(text)).toThrow(message);
  });

  it('never throws anything but SshError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parsePortForward(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SshError);
        }
      }),
      propertyParameters(),
    );
  });
});

describe('parseDynamicForward', () => {
  it('reads ssh -D specs', () => {
    expect(parseDynamicForward('1080')).toEqual({ bindAddress: undefined, port: 1080 });
    expect(parseDynamicForward('[::1]:1080')).toEqual({ bindAddress: '::1', port: 1080 });
    expect(() => parseDynamicForward('1080:x:1')).toThrow(/is not \[bind_address:\]port/);
    expect(() => parseDynamicForward('socks')).toThrow(/"socks" is not a port/);
  });
});
