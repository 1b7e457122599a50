import { describe, expect, it } from 'vitest';
import { Transport } from '../../lib/transport/transport.js';
import { SessionConfig } from '../../lib/config.js';
import { generateKeyPair } from '../../lib/keys/key-pair.js';
import { duplexPair, type ByteDuplex } from '../helpers/pipes.js';

/**
 * A link whose writes can be held uncompleted, with a writable that counts chunks (as Node's
 * Duplex.toWeb does), so its desiredSize never pushes back on its own.
 */
function heldLink(inner: ByteDuplex) {
  const writer = inner.writable.getWriter();
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const link = {
    readable: inner.readable,
    writable: new WritableStream<Uint8Array>(
      {
        write: async (chunk) => {
          await gate?.promise;
          await writer.write(chunk);
        },
      },
      new CountQueuingStrategy({ highWaterMark: 16384 }),
    ),
    hold() {
      let open!: () => void;
      gate = { promise: new Promise<void>((r) => (open = r)), open: () => open() };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
  };
  return link;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Transport send backpressure', () => {
  it('keeps send pending once 256 KiB of sealed packets wait for the byte stream, and resumes when they are written', async () => {
    const [a, b] = duplexPair();
    const link = heldLink(a);
    const hostKey = await generateKeyPair('ssh-ed25519');
    const client = new Transport({ isServer: false, config: SessionConfig.default() });
    const server = new Transport({ isServer: true, config: SessionConfig.default(), hostKeys: [hostKey] });
    await Promise.all([client.connect(link), server.connect(b)]);
    const received: number[] = [];
    server.onMessage = (p) => p[0] === 192 && received.push(p[1]!) > 0;

    link.hold();
    const message = (i: number) => Object.assign(new Uint8Array(16 * 1024), { 0: 192, 1: i });
    let sent = 0;
    let pending: Promise<void> | undefined;
    while (sent < 64 && !pending) {
      let done = false;
      const promise = client.send(message(sent++)).then(() => void (done = true));
      await tick();
      if (!done) pending = promise;
    }
    expect(pending).toBeDefined();
    expect(sent * 16 * 1024).toBeGreaterThanOrEqual(256 * 1024);
    expect(sent * 16 * 1024).toBeLessThanOrEqual(256 * 1024 + 32 * 1024);

    link.release();
    await pending;
    for (let i = 0; i < 50 && received.length < sent; i++) await tick();
    expect(received).toEqual(Array.from({ length: sent }, (_, i) => i));
    await client.close();
    await server.closed.catch(() => {});
  });
});
