import { describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import type { ConnectionService } from '../../lib/mux/services.js';
import type { ChannelOpeningEvent, ChannelRequestEvent, RequestEvent } from '../../lib/mux/events.js';
import { connectionPair } from './pair.js';

class EchoService implements ConnectionService {
  static created: Array<{ owner: unknown; config: unknown }> = [];
  disposed = false;
  constructor(owner: unknown, config: unknown) {
    EchoService.created.push({ owner, config });
  }
  onSessionRequest(e: RequestEvent): boolean {
    e.responseData = e.data;
    return true;
  }
  onChannelOpening(e: ChannelOpeningEvent): void {
    if (e.data[0] === 0) e.reject(1, 'Zero refused');
  }
  onChannelRequest(e: ChannelRequestEvent): boolean {
    return e.requestType === 'echo-ping';
  }
  dispose(): void {
    this.disposed = true;
  }
}

function serverConfig(activation: Parameters<SessionConfig['addService']>[1]): SessionConfig {
  const config = SessionConfig.default();
  config.addService('echo', activation, (owner, cfg) => new EchoService(owner, cfg), { answer: 42 });
  return config;
}

describe('services', () => {
  it('activates once per connection on its session request and handles it', async () => {
    EchoService.created = [];
    const p = connectionPair({ server: serverConfig({ sessionRequest: 'echo' }) });
    expect(p.server.getService('echo')).toBeUndefined();
    const a = await p.client.requestWithReply({ requestType: 'echo', wantReply: true, data: new Uint8Array([7]) });
    const b = await p.client.requestWithReply({ requestType: 'echo', wantReply: true, data: new Uint8Array([8]) });
    expect([a.success, a.data[0], b.data[0]]).toEqual([true, 7, 8]);
    expect(EchoService.created).toEqual([{ owner: 'server', config: { answer: 42 } }]);
  });

  it('activates on a channel type and decides the open', async () => {
    EchoService.created = [];
    const p = connectionPair({ server: serverConfig({ channelType: 'echo-channel' }) });
    await expect(p.client.openChannel('echo-channel', { data: new Uint8Array([0]) })).rejects.toMatchObject({ description: 'Zero refused' });
    const [c, s] = await Promise.all([p.client.openChannel('echo-channel', { data: new Uint8Array([1]) }), p.server.acceptChannel()]);
    expect(s.remoteChannelId).toBe(c.channelId);
    expect(EchoService.created).toHaveLength(1);
  });

  it('activates on a channel request and handles it instead of the channel handler', async () => {
    const p = connectionPair({ server: serverConfig({ channelRequest: 'echo-ping' }) });
    const [c, s] = await Promise.all([p.client.openChannel(), p.server.acceptChannel()]);
    s.onRequest = () => false;
    expect(await c.request({ requestType: 'echo-ping', wantReply: true })).toBe(true);
    expect(p.server.getService('echo')).toBeInstanceOf(EchoService);
  });

  it('activates by name for a service request and disposes services when the connection closes', () => {
    const p = connectionPair({ server: serverConfig({ serviceRequest: 'echo-service' }) });
    expect(p.server.activateServiceRequest('other')).toBeUndefined();
    const service = p.server.activateServiceRequest('echo-service') as EchoService;
    expect(p.server.activateService('echo')).toBe(service);
    p.close(new Error('bye'));
    expect(service.disposed).toBe(true);
  });
});
