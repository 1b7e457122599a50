/**
 * RFC 8308 EXT_INFO: the message codec and what we announce. Extensions are announced only when
 * configured and implemented: announcing one we do not implement would make the peer switch its
 * wire format (session-reconnect adds a trailer to every packet).
 */
import { SshReader, SshWriter, utf8Decode } from '../codec/wire.js';
import { MessageType } from '../codec/messages/transport.js';
import type { SessionConfig } from '../config.js';

/** Protocol extensions this library implements and may announce in EXT_INFO. */
const IMPLEMENTED_EXTENSIONS = new Set([
  'server-sig-algs',
  'open-channel-request@microsoft.com',
  'session-reconnect@microsoft.com',
  'session-latency@microsoft.com',
]);

/** RFC 8308 §2.3 */
export function encodeExtInfo(extensions: ReadonlyMap<string, string>): Uint8Array {
  const w = new SshWriter();
  w.byte(MessageType.ExtInfo).uint32(extensions.size);
  for (const [name, value] of extensions) w.string(name).string(value);
  return w.toBytes();
}

/** RFC 8308 §2.3 */
export function decodeExtInfo(payload: Uint8Array): Map<string, string> {
  const r = new SshReader(payload, 1);
  r.context = 'ExtInfo';
  const count = r.uint32();
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) out.set(r.utf8(), utf8Decode(r.string()));
  r.end();
  return out;
}

/** RFC 8308 §2.4: the extensions a side announces right after its first NEWKEYS. */
export function ourExtensions(config: SessionConfig, isServer: boolean): Map<string, string> {
  const extensions = new Map<string, string>();
  for (const name of config.protocolExtensions) {
    if (!IMPLEMENTED_EXTENSIONS.has(name)) continue;
    if (name === 'server-sig-algs') {
      if (isServer) extensions.set(name, config.publicKeyAlgorithms.join(','));
    } else {
      extensions.set(name, '');
    }
  }
  if (isServer) extensions.set('publickey-hostbound@openssh.com', '0');
  return extensions;
}
