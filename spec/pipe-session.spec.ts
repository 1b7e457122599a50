import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { pipeSession } from '../lib/pipe-session.js';
import { serveExec } from '../lib/session/exec.js';
import { ChannelOpenError } from '../lib/errors.js';
import { readAll } from './helpers/pipes.js';
import { sessionPair } from './helpers/pairs.js';

describe('pipeSession', () => {
  it('relays channels, requests, data and exit status between two sessions', async () => {
    // client ──► relayServer │ pipe │ relayClient ──► backend
    const front = await sessionPair();
    const back = await sessionPair();
    back.server.onRequest = (e) => {
      if (e.requestType !== 'whoami@example.com') return false;
      e.responseData = new TextEncoder().encode('backend');
      return true;
    };
    back.server.onChannelOpening = (e) => {
      if (e.channelType === 'forbidden@example.com') e.reject(1, 'not here');
    };
    void (async () => {
      for await (const ch of back.server.channels) serveExec(ch);
    })();
    const piping = pipeSession(front.server, back.client);

    const reply = await front.client.requestWithReply({ requestType: 'whoami@example.com', wantReply: true });
    expect(reply.success).toBe(true);
    expect(new TextDecoder().decode(reply.data)).toBe('backend');

    const ch = await front.client.openChannel();
    expect(await ch.exec('sha256sum; exit 4')).toBe(true);
    const data = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    const w = ch.writable.getWriter();
    void w.write(data).then(() => w.close());
    const out = new TextDecoder().decode(await readAll(ch.readable));
    expect(out.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    expect((await ch.closed).exitStatus).toBe(4);

    const refused = await front.client.openChannel('forbidden@example.com').catch((e) => e);
    expect(refused).toBeInstanceOf(ChannelOpenError);
    expect(refused.reason).toBe(1);
    expect(refused.description).toBe('not here');

    await back.server.close();
    await piping;
    expect(front.server.isClosed).toBe(true);
  });

  it('relays channels that the back end opens when the back end is a ClientSession', async () => {
    // The back end's peer (a server) opens a channel towards the relay's client session, as
    // `ssh -R` does with forwarded-tcpip: pipeSession sets onChannelOpening after authentication.
    const front = await sessionPair();
    const back = await sessionPair();
    const piping = pipeSession(front.server, back.client);
    const accepted = front.client.acceptChannel('forwarded@example.com');
    const far = await back.server.openChannel('forwarded@example.com');
    const near = await accepted;
    const w = far.writable.getWriter();
    await w.write(new TextEncoder().encode('through the relay'));
    await w.close();
    expect(new TextDecoder().decode(await readAll(near.readable))).toBe('through the relay');
    await back.server.close();
    await piping;
  });

});
