/**
 * The transport's diagnostics (see lib/trace): versions, each key exchange (who started it, what
 * passed since the previous one, what was negotiated), and how the connection ended. Called only
 * when a Tracer is present; nothing here ever sees a key, the shared secret or H.
 */
import { DisconnectReason } from '../errors.js';
import { getFingerprint } from '../keys/fingerprint.js';
import type { KeyPair } from '../keys/key-pair.js';
import type { NegotiatedAlgorithms } from '../kex/negotiate.js';
import type { Tracer } from '../trace/tracer.js';
import { cipherAlgorithms } from '../cipher/registry.js';
import type { SessionCloseInfo } from './transport-types.js';

const reasonNames = new Map<number, string>(Object.entries(DisconnectReason).map(([name, code]) => [code, name]));

/** RFC 4253 §11.1 reason code name (`byApplication`), or `reason <n>`. */
export function disconnectReasonName(code: number): string {
  return reasonNames.get(code) ?? `reason ${code}`;
}

/** RFC 4253 §4.2 */
export function traceVersions(tracer: Tracer, versions: { local: string; remote: string }): void {
  tracer.emit('info', 'transport', `Remote version: ${versions.remote}`, { localVersion: versions.local, remoteVersion: versions.remote });
}

/** Traffic counters since the previous NEWKEYS in each direction. */
export interface SinceKeys {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
}

/** RFC 4253 §9: an exchange starts (our KEXINIT goes out). */
export function traceKexStarted(tracer: Tracer, kex: { initiatedBy: 'local' | 'remote'; initial: boolean; since: SinceKeys }): void {
  const { initiatedBy, initial, since } = kex;
  const what = initial ? 'Key exchange' : 'Re-key';
  tracer.emit(
    'info',
    'kex',
    `${what} started by ${initiatedBy === 'local' ? 'us' : 'the peer'}` +
      (initial ? '' : ` after ${since.bytesSent} bytes / ${since.packetsSent} packets sent, ${since.bytesReceived} bytes / ${since.packetsReceived} packets received`),
    { initiatedBy, rekey: !initial, ...since },
  );
}

/** RFC 4253 §7.1: what an exchange negotiated (each direction), and the host key it proved. */
export function traceKexCompleted(
  tracer: Tracer,
  kex: { algorithms: NegotiatedAlgorithms; initial: boolean; strictKex: boolean; hostKey: KeyPair | undefined; exchanges: number },
): void {
  const a = kex.algorithms;
  const hostKeyFingerprint = kex.hostKey ? getFingerprint(kex.hostKey) : undefined;
  // An AEAD cipher authenticates by itself: the negotiated MAC is unused, as `ssh -v` shows it.
  const mac = (cipher: string, name: string | undefined): string => (cipherAlgorithms.get(cipher)?.aead || name === undefined ? '<implicit>' : name);
  tracer.emit(
    'info',
    'kex',
    `${kex.initial ? 'Key exchange' : 'Re-key'} completed: kex ${a.kex}, host key ${a.serverHostKey}${hostKeyFingerprint ? ` ${hostKeyFingerprint}` : ''}; ` +
      `client to server ${a.encryptionClientToServer} ${mac(a.encryptionClientToServer, a.macClientToServer)} ${a.compressionClientToServer}; ` +
      `server to client ${a.encryptionServerToClient} ${mac(a.encryptionServerToClient, a.macServerToClient)} ${a.compressionServerToClient}`,
    {
      rekey: !kex.initial,
      kex: a.kex,
      hostKeyAlgorithm: a.serverHostKey,
      hostKeyFingerprint,
      encryptionClientToServer: a.encryptionClientToServer,
      encryptionServerToClient: a.encryptionServerToClient,
      macClientToServer: a.macClientToServer,
      macServerToClient: a.macServerToClient,
      compressionClientToServer: a.compressionClientToServer,
      compressionServerToClient: a.compressionServerToClient,
      strictKex: kex.strictKex,
      keyExchanges: kex.exchanges,
    },
  );
}

/** RFC 4253 §11.1: how the connection ended (DISCONNECT sent, received, or the link lost). */
export function traceEnded(tracer: Tracer, info: SessionCloseInfo): void {
  const reasonName = disconnectReasonName(info.reason);
  const by = info.initiatedBy === 'local' ? 'by us' : 'by the peer';
  tracer.emit('info', 'transport', `Disconnected ${by}: ${reasonName} (${info.reason})${info.description ? ` ${info.description}` : ''}`, {
    reasonCode: info.reason,
    reason: reasonName,
    description: info.description,
    initiatedBy: info.initiatedBy,
  });
}
