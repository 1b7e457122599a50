import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../lib/errors.js';
import type { ChannelRequestEvent } from '../../../lib/mux/events.js';
import { decodeTerminalModes, encodeTerminalModes, TerminalMode } from '../../../lib/codec/messages/session-requests.js';
import { connectionPair } from '../../mux/pair.js';

async function channelPair() {
  const pair = connectionPair();
  const [c, s] = await Promise.all([pair.client.openChannel(), pair.server.acceptChannel()]);
  const seen: ChannelRequestEvent[] = [];
  s.onRequest = (e) => {
    seen.push(e);
    return true;
  };
  return { ...pair, c, s, seen };
}

describe('RFC 4254 §6 request helpers', () => {
  it('round-trips every typed helper to the decoded event fields', async () => {
    const p = await channelPair();
    await p.c.requestPty({ term: 'xterm-256color', columns: 80, rows: 24, modes: { [TerminalMode.ECHO]: 1, [TerminalMode.TTY_OP_OSPEED]: 38400 } });
    await p.c.setEnv('LANG', 'C.UTF-8');
    await p.c.exec('ls -l /tmp');
    await p.c.shell();
    await p.c.subsystem('sftp');
    await p.c.resizePty({ columns: 120, rows: 40, widthPixels: 960 });
    await p.c.signal('TERM');
    await p.c.request({ requestType: 'x-custom', wantReply: true, data: new Uint8Array([1]) });
    const e = p.seen;
    expect(e.map((x) => x.requestType)).toEqual(['pty-req', 'env', 'exec', 'shell', 'subsystem', 'window-change', 'signal', 'x-custom']);
    expect(e[0]!.pty).toEqual({ term: 'xterm-256color', columns: 80, rows: 24, widthPixels: 0, heightPixels: 0, modes: { 53: 1, 129: 38400 } });
    expect([e[1]!.name, e[1]!.value]).toEqual(['LANG', 'C.UTF-8']);
    expect(e[2]!.command).toBe('ls -l /tmp');
    expect(e[4]!.subsystem).toBe('sftp');
    expect(e[5]!.windowSize).toEqual({ columns: 120, rows: 40, widthPixels: 960, heightPixels: 0 });
    expect(e[5]!.wantReply).toBe(false);
    expect(e[6]!.signal).toBe('TERM');
    expect(e[7]!.data).toEqual(new Uint8Array([1]));
  });

  it.each([
    [{ exitStatus: 3 }, { closedBy: 'remote', exitStatus: 3 }],
    [{ exitSignal: 'KILL', coreDumped: true, errorMessage: 'Killed' }, { closedBy: 'remote', exitSignal: 'KILL', coreDumped: true, errorMessage: 'Killed' }],
  ] as const)('reports close(%o) to the peer in channel.closed', async (options, expected) => {
    const p = await channelPair();
    await p.s.close(options);
    expect(await p.c.closed).toEqual(expected);
  });

  it('rejects a malformed exec payload with ProtocolError', async () => {
    const p = await channelPair();
    const { encode } = await import('../../../lib/codec/schema.js');
    const { ChannelRequest } = await import('../../../lib/codec/messages/connection.js');
    const bad = encode(ChannelRequest, { recipientChannel: p.s.channelId, requestType: 'exec', wantReply: true, data: new Uint8Array([0, 0, 0, 9, 1]) });
    expect(() => p.server.handleMessage(bad)).toThrow(ProtocolError);
  });
});

describe('terminal modes', () => {
  it('encodes opcode/value pairs ended by TTY_OP_END and decodes them back', () => {
    const bytes = encodeTerminalModes({ 1: 3, 53: 0 });
    expect(bytes).toEqual(new Uint8Array([1, 0, 0, 0, 3, 53, 0, 0, 0, 0, 0]));
    expect(decodeTerminalModes(bytes)).toEqual({ 1: 3, 53: 0 });
  });

  it('stops at an opcode of 160 or more, as RFC 4254 §8 says', () => {
    expect(decodeTerminalModes(new Uint8Array([1, 0, 0, 0, 3, 200, 9, 9]))).toEqual({ 1: 3 });
  });

  it('rejects a truncated mode with ProtocolError', () => {
    expect(() => decodeTerminalModes(new Uint8Array([1, 0, 0]))).toThrow(ProtocolError);
  });
});
