/**
 * The same session flows on the web-streams-polyfill implementation instead of Node's: the
 * library must not depend on one engine's stream quirks. Globals are swapped before the library
 * is loaded (vitest runs each spec file in its own worker).
 */
import { describe, expect, it } from 'vitest';
import * as polyfill from 'web-streams-polyfill';

const native = globalThis.ReadableStream;
Object.assign(globalThis, {
  ReadableStream: polyfill.ReadableStream,
  WritableStream: polyfill.WritableStream,
  TransformStream: polyfill.TransformStream,
  ByteLengthQueuingStrategy: polyfill.ByteLengthQueuingStrategy,
  CountQueuingStrategy: polyfill.CountQueuingStrategy,
});

describe('ssh-streams on web-streams-polyfill', () => {
  it('connects, authenticates, echoes through pipeTo and runs exec', async () => {
    expect(globalThis.ReadableStream).not.toBe(native);
    const { sessionPair } = await import('./helpers/pairs.js');
    const { serveExec } = await import('../lib/session/exec.js');
    const { client, server } = await sessionPair();
    void (async () => {
      for await (const ch of server.channels) {
        if (ch.channelId === 0) void ch.readable.pipeTo(ch.writable);
        else serveExec(ch);
      }
    })();
    const echo = await client.openChannel();
    expect(echo.readable).toBeInstanceOf(polyfill.ReadableStream);
    const payload = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff);
    const w = echo.writable.getWriter();
    void w.write(payload).then(() => w.close());
    const chunks: Uint8Array[] = [];
    for (const r = echo.readable.getReader(); ; ) {
      const { value, done } = await r.read();
      if (done) break;
      chunks.push(value);
    }
    expect(Buffer.compare(Buffer.concat(chunks), payload)).toBe(0);
    const cmd = await client.openChannel();
    expect(await cmd.exec('echo polyfilled')).toBe(true);
    await cmd.writable.close();
    const out: Uint8Array[] = [];
    for (const r = cmd.readable.getReader(); ; ) {
      const { value, done } = await r.read();
      if (done) break;
      out.push(value);
    }
    expect(Buffer.concat(out).toString()).toBe('polyfilled\n');
    expect((await cmd.closed).exitStatus).toBe(0);
    await client.close();
  });
});
