import { describe, expect, it } from 'vitest';
import { runFuzzCampaign } from '../../fuzz/campaign.js';
import { FuzzServer } from '../../fuzz/server.js';
import { recordExchange } from '../../fuzz/record.js';
import { mutateSequence } from '../../fuzz/mutate.js';
import { FuzzRandom } from '../../fuzz/random.js';
import { testHostKey } from '../helpers/pairs.js';

describe('fuzz campaign', () => {
  it('records the exchange the mutations start from: key exchange in plain, then auth, requests, channels and data', async () => {
    const recorded = await recordExchange(new FuzzServer(await testHostKey()));
    expect(new TextDecoder().decode(recorded.versionLine)).toMatch(/^SSH-2\.0-.*\r\n$/);
    expect(recorded.keyExchange.map((m) => m[0])).toEqual([20, 30, 21]);
    const types = new Set(recorded.session.map((m) => m[0]));
    for (const type of [5, 50, 80, 90, 94, 96, 97, 98]) expect(types, `message ${type}`).toContain(type);
  });

  it('replays a case exactly from its seed and iteration', () => {
    const messages = [Uint8Array.of(5, 0, 0, 0, 1, 97), Uint8Array.of(94, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2), Uint8Array.of(97, 0, 0, 0, 0)];
    const a = mutateSequence(new FuzzRandom(7, 42), messages, 8);
    const b = mutateSequence(new FuzzRandom(7, 42), messages, 8);
    expect(b).toEqual(a);
    expect(a.description.length).toBeGreaterThan(0);
    expect(mutateSequence(new FuzzRandom(7, 43), messages, 8)).not.toEqual(a);
  });

  it('a seeded pass through a live server finds nothing: no escape, no hang, no leak, healthy throughout', async () => {
    const report = await runFuzzCampaign({ seed: 0x5eed, iterations: 300, deadlineMs: 20_000, freshSessionEvery: 50, hostKey: await testHostKey() });
    expect(report.findings).toEqual([]);
    expect(report.iterations).toBe(300);
    expect(report.keyExchangeCases).toBeGreaterThan(0);
    expect(report.mutatedMessagesSent).toBeGreaterThan(300);
    expect(report.healthChecks).toBe(306);
    expect(report.leaks).toMatchObject({ openSessions: 0, openChannels: 0 });
    expect(report.leaks.timersAfter).toBeLessThanOrEqual(report.leaks.timersBefore);
  }, 180_000);
});
