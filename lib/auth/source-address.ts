/**
 * The `source-address` critical option of OpenSSH user certificates (PROTOCOL.certkeys): a
 * comma-separated list of addresses and CIDR ranges, IPv4 and IPv6, that the client must connect
 * from. Pure parsing and matching, so it runs wherever the auth layer runs.
 */

/** Parses an IPv4 or IPv6 address into bytes (IPv4-mapped IPv6 becomes IPv4); undefined if malformed. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  const address = text.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
    const parts = address.split('.').map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
  }
  if (!address.includes(':')) return undefined;
  let head = address;
  let tail: number[] = [];
  const dotted = /:(\d{1,3}(\.\d{1,3}){3})$/.exec(address);
  if (dotted) {
    const v4 = parseIpAddress(dotted[1]!);
    if (!v4) return undefined;
    head = address.slice(0, dotted.index + 1) + '0:0';
    tail = [...v4];
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out = s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
    return out.some(Number.isNaN) ? undefined : out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const words = [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

/**
 * True when `address` lies in one of the comma-separated entries of `list` (`a.b.c.d`,
 * `a.b.c.d/n`, `x::y`, `x::/n`). A malformed entry never matches.
 * @example sourceAddressAllows('10.0.0.0/8,::1', '10.1.2.3') // true
 */
export function sourceAddressAllows(list: string, address: string): boolean {
  const client = parseIpAddress(address);
  if (!client) return false;
  for (const entry of list.split(',')) {
    const [net, bitsText] = entry.trim().split('/');
    const network = parseIpAddress(net ?? '');
    if (!network || network.length !== client.length) continue;
    const bits = bitsText === undefined ? network.length * 8 : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > network.length * 8 || !/^\d*$/.test(bitsText ?? '')) continue;
    let ok = true;
    for (let i = 0; i < network.length && ok; i++) {
      const maskBits = Math.max(0, Math.min(8, bits - i * 8));
      const mask = (0xff << (8 - maskBits)) & 0xff;
      ok = (network[i]! & mask) === (client[i]! & mask);
    }
    if (ok) return true;
  }
  return false;
}
