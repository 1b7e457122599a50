/**
 * serveSftp's spare DATA buffers (full-size READ answers reused once the channel copied them) are
 * kept only while the session has a handle open: an idle session holds none.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../../lib/codec/schema.js';
import { OpenFlags, SftpPacketType } from '../../lib/sftp/constants.js';
import * as M from '../../lib/sftp/messages.js';
import { SftpAttributes } from '../../lib/sftp/attributes.js';
import { HandleTable } from '../../lib/sftp/server-handles.js';
import { ServerOps } from '../../lib/sftp/server-ops.js';
import { ServerRoot } from '../../lib/sftp/server-root.js';

/** The payload of a framed packet (what the server's packet reader hands on: type first). */
const payload = (packet: Uint8Array): Uint8Array => packet.subarray(4);

describe('ServerOps spare buffers', () => {
  it('reuses full-size DATA buffers while a file is open and lets them go at the last CLOSE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sftp-ops-'));
    try {
      writeFileSync(join(dir, 'big'), new Uint8Array(4 << 20).fill(7));
      const ops = new ServerOps(await ServerRoot.create(dir), new HandleTable(8), { readOnly: true, reversedSymlink: false, maxHandles: 8 });
      const run = async (packet: Uint8Array): Promise<Uint8Array> => payload(await ops.handle(packet[4]!, payload(packet))!);
      const opened = await run(M.encodePacket(M.Open, { requestId: 1, filename: '/big', pflags: OpenFlags.read, attrs: new SftpAttributes() }));
      const { handle } = decode(M.Handle, opened);
      for (let i = 0; i < 3; i++) {
        const data = await run(M.encodePacket(M.Read, { requestId: 2 + i, handle, offset: BigInt(i) << 20n, len: 1 << 20 }));
        expect(data[0]).toBe(SftpPacketType.data);
        // The channel copied the answer: its buffer comes back for the next READ.
        ops.recycle(new Uint8Array(data.buffer, data.byteOffset - 4, data.length + 4));
      }
      expect(ops.spareBuffers).toBeGreaterThan(0);
      await run(M.encodePacket(M.Close, { requestId: 9, handle }));
      expect(ops.spareBuffers).toBe(0);
      // An answer the channel finishes after the last CLOSE is not kept either.
      const reopened = decode(M.Handle, await run(M.encodePacket(M.Open, { requestId: 10, filename: '/big', pflags: OpenFlags.read, attrs: new SftpAttributes() })));
      const late = await run(M.encodePacket(M.Read, { requestId: 11, handle: reopened.handle, offset: 0n, len: 1 << 20 }));
      await run(M.encodePacket(M.Close, { requestId: 12, handle: reopened.handle }));
      ops.recycle(new Uint8Array(late.buffer, late.byteOffset - 4, late.length + 4));
      expect(ops.spareBuffers).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
