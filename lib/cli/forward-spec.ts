/**
 * The forwarding arguments of `ssh-streams connect`, written as ssh(1) writes them:
 * `-L [bind_address:]port:host:hostport`, `-R [bind_address:]port:host:hostport` and
 * `-D [bind_address:]port`. IPv6 addresses go in brackets (`[::1]:8080:[::1]:80`). Parsing only;
 * connect.ts starts the forwards.
 */
import { SshError } from '../index.node.js';

/** A parsed `-L` or `-R` argument. */
export interface PortForwardSpec {
  /** The address to listen on; undefined for the default (loopback). */
  bindAddress: string | undefined;
  port: number;
  host: string;
  hostPort: number;
}

/** A parsed `-D` argument. */
export interface DynamicForwardSpec {
  bindAddress: string | undefined;
  port: number;
}

/** Splits at colons outside brackets, dropping the brackets of `[address]` fields. */
function fields(spec: string): string[] {
  const parts: string[] = [];
  let at = 0;
  while (at <= spec.length) {
    if (spec[at] === '[') {
      const close = spec.indexOf(']', at);
      if (close < 0) throw new SshError(`Forwarding spec ${JSON.stringify(spec)} has an unclosed "["`);
      parts.push(spec.slice(at + 1, close));
      at = close + 1;
      if (at < spec.length && spec[at] !== ':') throw new SshError(`Forwarding spec ${JSON.stringify(spec)} has text after "]"`);
      at++;
    } else {
      const colon = spec.indexOf(':', at);
      const end = colon < 0 ? spec.length : colon;
      parts.push(spec.slice(at, end));
      at = end + 1;
    }
  }
  return parts;
}

function port(text: string, spec: string, allowZero: boolean): number {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= (allowZero ? 0 : 1) && value <= 65535)) {
    throw new SshError(`Forwarding spec ${JSON.stringify(spec)}: ${JSON.stringify(text)} is not a port (${allowZero ? 0 : 1}-65535)`);
  }
  return value;
}

function host(text: string, spec: string): string {
  if (text === '' || /\s/.test(text)) throw new SshError(`Forwarding spec ${JSON.stringify(spec)}: ${JSON.stringify(text)} is not a host`);
  return text;
}

/**
 * Parses `[bind_address:]port:host:hostport` (ssh -L / -R).
 * @throws SshError naming the spec and the bad field
 * @example parsePortForward('8080:localhost:80') // { bindAddress: undefined, port: 8080, host: 'localhost', hostPort: 80 }
 */
export function parsePortForward(spec: string): PortForwardSpec {
  const parts = fields(spec);
  if (parts.length !== 3 && parts.length !== 4) {
    throw new SshError(`Forwarding spec ${JSON.stringify(spec)} is not [bind_address:]port:host:hostport`);
  }
  const [bindAddress, listen, target, targetPort] = parts.length === 4 ? parts : [undefined, ...parts];
  return {
    bindAddress: bindAddress === undefined ? undefined : bindAddress,
    port: port(listen!, spec, true),
    host: host(target!, spec),
    hostPort: port(targetPort!, spec, false),
  };
}

/**
 * Parses `[bind_address:]port` (ssh -D).
 * @throws SshError naming the spec and the bad field
 * @example parseDynamicForward('1080') // { bindAddress: undefined, port: 1080 }
 */
export function parseDynamicForward(spec: string): DynamicForwardSpec {
  const parts = fields(spec);
  if (parts.length !== 1 && parts.length !== 2) throw new SshError(`Forwarding spec ${JSON.stringify(spec)} is not [bind_address:]port`);
  const [bindAddress, listen] = parts.length === 2 ? parts : [undefined, parts[0]];
  return { bindAddress, port: port(listen!, spec, true) };
}

/**
 * Writes a spec back in ssh's syntax (addresses with a colon in brackets).
 * @example formatPortForward({ bindAddress: '::1', port: 80, host: 'web', hostPort: 8080 }) // '[::1]:80:web:8080'
 */
export function formatPortForward(spec: PortForwardSpec): string {
  const address = (text: string): string => (text.includes(':') ? `[${text}]` : text);
  const bind = spec.bindAddress === undefined ? '' : `${address(spec.bindAddress)}:`;
  return `${bind}${spec.port}:${address(spec.host)}:${spec.hostPort}`;
}
