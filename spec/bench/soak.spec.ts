import { describe, expect, it } from 'vitest';
import { runConcurrentSoak } from '../../bench/soak/concurrent.js';
import { runDataSoak } from '../../bench/soak/data.js';
import { runReconnectSoak } from '../../bench/soak/reconnect.js';

// The shortened soak: what it asserts is correctness under load (no error, no leak, no byte lost
// or duplicated), never a rate; `npm run soak` gives the figures.
describe('soak (shortened)', () => {
  it.each(['ssh-streams', 'ssh2'] as const)('100 concurrent sessions with a channel each on %s, all released after closing', async (kind) => {
    const result = await runConcurrentSoak(kind, 100, { inProcess: true });
    expect(result).toMatchObject({ sessions: 100, errors: 0, leftOpen: { sessions: 0, channels: 0 } });
  }, 180_000);

  it('100 sessions x 2 channels writing for 20 s: every byte delivered, no error, nothing left open', async () => {
    const result = await runDataSoak({ sessions: 100, channels: 2, seconds: 20, sampleSeconds: 10, inProcess: true });
    expect(result.errorMessages).toEqual([]);
    expect(result.errors).toBe(0);
    expect(result.bytesSent).toBeGreaterThan(0);
    expect(result.bytesReceived).toBe(result.bytesSent);
    expect(result.leftOpen).toEqual({ sessions: 0, channels: 0 });
  }, 300_000);

  it.each(['ssh-streams', 'dev-tunnels-ssh'] as const)('10 socket kills under load against %s lose and duplicate nothing', async (peer) => {
    const result = await runReconnectSoak(peer, 10);
    expect(result.errors).toEqual([]);
    expect(result.reconnections).toBe(10);
    expect(result.clientToServer.receivedBytes).toBe(result.clientToServer.sentBytes);
    expect(result.serverToClient.receivedBytes).toBe(result.serverToClient.sentBytes);
    expect([result.clientToServer.hashesEqual, result.serverToClient.hashesEqual]).toEqual([true, true]);
  }, 180_000);
});
