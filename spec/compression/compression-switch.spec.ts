import { describe, expect, it } from 'vitest';
import { CompressionSwitch } from '../../lib/compression/compression-switch.js';
import { COMPRESSION_NAMES, compressionStart, isKnownCompression } from '../../lib/compression/names.js';

/** A context that records whether it was destroyed, numbered in creation order. */
function recorder() {
  const made: { id: number; destroyed: boolean; destroy(): void }[] = [];
  const create = () => {
    const context = { id: made.length, destroyed: false, destroy: () => void (context.destroyed = true) };
    made.push(context);
    return context;
  };
  return { made, create };
}

describe('CompressionSwitch', () => {
  it('starts zlib at NEWKEYS and a fresh context at every later NEWKEYS', () => {
    const { made, create } = recorder();
    const s = new CompressionSwitch(create);
    expect(s.active).toBeUndefined();
    s.prepare('zlib');
    expect(s.active).toBeUndefined();
    expect(s.switchKeys()?.id).toBe(0);
    s.prepare('zlib');
    expect(s.switchKeys()?.id).toBe(1);
    expect(made[0]!.destroyed).toBe(true);
    expect(made[1]!.destroyed).toBe(false);
  });

  it('holds zlib@openssh.com until authentication succeeds, then restarts it at each NEWKEYS', () => {
    const { made, create } = recorder();
    const s = new CompressionSwitch(create);
    s.prepare('zlib@openssh.com');
    expect(s.switchKeys()).toBeUndefined();
    expect(s.name).toBe('zlib@openssh.com');
    expect(s.authenticationSucceeded()?.id).toBe(0);
    expect(s.authenticationSucceeded()?.id).toBe(0);
    s.prepare('zlib@openssh.com');
    expect(s.switchKeys()?.id).toBe(1);
    expect(made.map((m) => m.destroyed)).toEqual([true, false]);
  });

  it('stops compressing when a re-key negotiates none', () => {
    const { made, create } = recorder();
    const s = new CompressionSwitch(create);
    s.prepare('zlib');
    s.switchKeys();
    s.prepare('none');
    expect(s.switchKeys()).toBeUndefined();
    expect(s.name).toBe('none');
    expect(made[0]!.destroyed).toBe(true);
  });

  it('treats keys prepared without a compression name as none', () => {
    const { create } = recorder();
    const s = new CompressionSwitch(create);
    s.prepare('zlib');
    s.switchKeys();
    expect(s.switchKeys()).toBeUndefined();
    expect(s.authenticationSucceeded()).toBeUndefined();
  });

  it('never starts none, even after authentication', () => {
    const { made, create } = recorder();
    const s = new CompressionSwitch(create);
    s.prepare('none');
    s.switchKeys();
    expect(s.authenticationSucceeded()).toBeUndefined();
    expect(made).toHaveLength(0);
  });

  it('frees the running context on destroy', () => {
    const { made, create } = recorder();
    const s = new CompressionSwitch(create);
    s.prepare('zlib');
    s.switchKeys();
    s.destroy();
    expect(made[0]!.destroyed).toBe(true);
    expect(s.active).toBeUndefined();
  });
});

describe('compression names', () => {
  it.each([
    ['none', 'never'],
    ['zlib', 'newKeys'],
    ['zlib@openssh.com', 'authenticated'],
  ] as const)('knows %s and starts it at %s', (name, start) => {
    expect(COMPRESSION_NAMES).toContain(name);
    expect(isKnownCompression(name)).toBe(true);
    expect(compressionStart(name)).toBe(start);
  });

  it('does not know other methods', () => {
    expect(isKnownCompression('zstd@example.com')).toBe(false);
    expect(compressionStart('zstd@example.com')).toBe('never');
  });
});
