import { describe, expect, it } from 'vitest';
import { VersionExchange, identificationLine, readIdentification } from '../../lib/transport/version.js';
import { ProtocolError } from '../../lib/errors.js';
import { everySplit, randomSplits, streamOfChunks } from '../helpers/chunking.js';

const enc = (s: string) => new TextEncoder().encode(s);

function feed(chunks: Uint8Array[], allowPreamble = true) {
  const x = new VersionExchange(allowPreamble);
  for (let i = 0; i < chunks.length; i++) {
    const r = x.push(chunks[i]!);
    // Later chunks are what the packet stage reads next.
    if (r) return { ...r, rest: Buffer.concat([r.rest, ...chunks.slice(i + 1)]) };
  }
  return undefined;
}

describe('VersionExchange', () => {
  const stream = enc('hello there\r\nanother line\nSSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x00\x01\x0c');

  it('parses the identification at every chunk boundary and keeps the bytes after it', () => {
    for (const chunks of everySplit(stream)) {
      const r = feed(chunks)!;
      expect(r.version).toBe('SSH-2.0-OpenSSH_9.2p1 Debian-2');
      expect(r.preamble).toEqual(['hello there', 'another line']);
      expect([...r.rest]).toEqual([0, 0, 1, 12]);
    }
    for (const chunks of randomSplits(stream, 'version', 200, { includeEmpty: true })) {
      expect(feed(chunks)!.version).toBe('SSH-2.0-OpenSSH_9.2p1 Debian-2');
    }
  });

  it('accepts a bare LF and the 1.99 compatibility version', () => {
    expect(feed([enc('SSH-1.99-old\n')])!.version).toBe('SSH-1.99-old');
  });

  it.each([
    ['SSH-1.5-ancient\r\n', /version 1.5 is not supported/],
    ['SSH-2.0-\r\n', /Malformed identification/],
    ['SSH-2.0\r\n', /Malformed identification/],
    [`SSH-2.0-${'x'.repeat(300)}\r\n`, /exceeds 255 bytes/],
    [`${'garbage '.repeat(40)}`, /exceeds 255 bytes/],
    [`${'line\r\n'.repeat(70)}`, /No SSH identification within 64 lines/],
    ['bad\0line\r\nSSH-2.0-x\r\n', /NUL byte/],
  ])('rejects %j with a clear ProtocolError', (input, pattern) => {
    expect(() => feed([enc(input)])).toThrow(ProtocolError);
    expect(() => feed([enc(input)])).toThrow(pattern);
  });

  it('refuses lines before a client identification', () => {
    expect(() => feed([enc('hello\r\nSSH-2.0-x\r\n')], false)).toThrow(/Expected an SSH identification line/);
  });

  it('reports a stream that ends before the identification', async () => {
    const reader = streamOfChunks([enc('SSH-2.0-trunc')]).getReader();
    await expect(readIdentification(reader, true)).rejects.toThrow(/before the SSH identification/);
  });

  it('writes our identification with CR LF', () => {
    expect(new TextDecoder().decode(identificationLine('x_1'))).toBe('SSH-2.0-x_1\r\n');
  });
});
