import { afterEach, describe, expect, it } from 'vitest';
import { SessionConfig } from '../../lib/config.js';
import { SshError } from '../../lib/errors.js';
import { CompressionSwitch } from '../../lib/compression/compression-switch.js';
import { PayloadCompressor } from '../../lib/compression/payload-compression.js';
import { installZlibBackend, isZlibAvailable } from '../../lib/compression/zlib-engine.js';
import { nodeZlibBackend } from '../../lib/compression/sync-zlib.js';
import { sessionPair } from '../helpers/pairs.js';

afterEach(() => installZlibBackend(nodeZlibBackend));

describe('zlib seam', () => {
  it('lists zlib@openssh.com by default only where a synchronous zlib is installed', () => {
    expect(isZlibAvailable()).toBe(true);
    expect(SessionConfig.default().compressionAlgorithms).toEqual(['none', 'zlib@openssh.com']);
    installZlibBackend(undefined);
    expect(isZlibAvailable()).toBe(false);
    expect(SessionConfig.default().compressionAlgorithms).toEqual(['none']);
  });

  it('refuses to prepare a zlib method without zlib, naming it, and still runs none', () => {
    installZlibBackend(undefined);
    const compression = new CompressionSwitch(() => new PayloadCompressor());
    expect(() => compression.prepare('zlib@openssh.com')).toThrow(SshError);
    expect(() => compression.prepare('zlib')).toThrow(/Compression zlib needs a synchronous zlib/);
    compression.prepare('none');
    expect(compression.switchKeys()).toBeUndefined();
    expect(() => new PayloadCompressor()).toThrow(SshError);
  });

  it('fails a session that negotiates zlib without zlib with a clear SshError', async () => {
    installZlibBackend(undefined);
    const config = () => Object.assign(SessionConfig.default(), { compressionAlgorithms: ['zlib'] });
    const error = await sessionPair({ clientConfig: config(), serverConfig: config() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SshError);
    expect((error as Error).message).toMatch(/Compression zlib needs a synchronous zlib/);
  });

  it('still runs a session with compression none without zlib', async () => {
    installZlibBackend(undefined);
    const { client, server } = await sessionPair();
    expect(client.algorithms?.compressionClientToServer ?? 'none').toBe('none');
    await client.close();
    await server.close();
  });
});
