import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connectionPair, readAll } from './pair.js';

describe('Channel.pipe', () => {
  it('relays data both ways, requests with replies, and the close with its exit status', async () => {
    // client A -> relay (server of A, client of B) -> server B
    const a = connectionPair();
    const b = connectionPair();
    const [aClient, aServer] = await Promise.all([a.client.openChannel(), a.server.acceptChannel()]);
    const [bClient, bServer] = await Promise.all([b.client.openChannel(), b.server.acceptChannel()]);
    const piped = aServer.pipe(bClient);
    bServer.onRequest = (e) => e.requestType === 'exec' && e.command === 'cat';
    expect(await aClient.exec('cat')).toBe(true);
    expect(await aClient.exec('rm')).toBe(false);

    // bServer echoes, then exits with status 7.
    void (async () => {
      await bServer.readable.pipeTo(bServer.writable);
      await bServer.close({ exitStatus: 7 });
    })();
    const payload = new Uint8Array(3 << 20).map((_, i) => (i * 31) & 0xff);
    const writer = aClient.writable.getWriter();
    const echoed = readAll(aClient.readable);
    await writer.write(payload);
    await writer.close();
    const got = await echoed;
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(await aClient.closed).toEqual({ closedBy: 'remote', exitStatus: 7 });
    await piped;
    expect(a.monitor.violations).toEqual([]);
    expect(b.monitor.violations).toEqual([]);
  });
});
