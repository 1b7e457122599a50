/**
 * Deterministic log-like text for the compression specs: deflate shrinks it about six times, so
 * a session that compresses shows far fewer bytes on the wire than it carried.
 */

/** `bytes` bytes of log lines, the same on every run. */
export function logText(bytes: number): Buffer {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `2024-05-01T12:00:${String(i % 60).padStart(2, '0')}Z worker=${i % 13} request=${(i * 2654435761) >>> 0} status=ok\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}
