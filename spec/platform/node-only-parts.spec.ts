/**
 * Node-only parts fail with a clear SshError where their backend is not installed (the browser
 * build), when used and never at import. Each case imports a fresh copy of the modules, in which
 * the Node platform file has not run.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.resetModules();
});

/** Module copies have their own SshError class: errors are told apart by name. */
function thrownBy(action: () => unknown): Error | undefined {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

async function fresh<T>(path: string): Promise<T> {
  vi.resetModules();
  return (await import(path)) as T;
}

describe('Node-only parts without their Node backend', () => {
  it('serveExec throws an SshError naming node:child_process when called', async () => {
    const exec = await fresh<typeof import('../../lib/session/exec.js')>('../../lib/session/exec.js');
    expect(thrownBy(() => exec.serveExec({} as never))?.name).toBe('SshError');
    expect(() => exec.serveExec({} as never)).toThrow(/serveExec runs commands with node:child_process, which this runtime does not have/);
  });

  it('listening on and connecting to local ports fail with an SshError naming node:net', async () => {
    const tcp = await fresh<typeof import('../../lib/forwarding/tcp-endpoints.js')>('../../lib/forwarding/tcp-endpoints.js');
    expect(thrownBy(() => tcp.listenTcp('127.0.0.1', 0))?.name).toBe('SshError');
    expect(() => tcp.listenTcp('127.0.0.1', 0)).toThrow(/needs node:net, which this runtime does not have/);
    await expect(tcp.connectTcp('127.0.0.1', 1)).rejects.toThrow(/needs node:net/);
    const unix = await fresh<typeof import('../../lib/forwarding/unix-endpoints.js')>('../../lib/forwarding/unix-endpoints.js');
    expect(() => unix.listenUnix('/tmp/nowhere.sock')).toThrow(/needs node:net/);
  });

  it('the browser ssh-streams/tcp imports cleanly and throws an SshError on use', async () => {
    const tcp = await import('../../lib/tcp/index.browser.js');
    expect(thrownBy(() => new tcp.TcpClient())?.name).toBe('SshError');
    expect(() => new tcp.TcpServer()).toThrow(/TcpServer needs node:net.*webSocketToDuplex/);
    expect(() => tcp.socketToDuplex()).toThrow(/socketToDuplex needs node:net/);
  });

  it('the browser ssh-streams/sftp imports cleanly and its server stand-ins throw an SshError', async () => {
    const sftp = await import('../../lib/sftp/index.browser.js');
    expect(typeof sftp.SftpClient.open).toBe('function');
    expect(thrownBy(() => sftp.serveSftp())?.name).toBe('SshError');
    expect(() => sftp.runSftpServer()).toThrow(/runSftpServer serves files through node:fs/);
  });
});
