/**
 * One fuzz case against the live server, from the attacker's side. A session case runs a real
 * client transport (so the key exchange completes and every mutated payload is sealed with the
 * negotiated keys and reaches the server's inner decoders), sends the mutated sequence, probes
 * that the server still answers, disconnects, and checks that the server session ended within the
 * deadline. A key-exchange case writes the version line and the plain key-exchange packets, mutated,
 * then ends the byte stream. A case reports problems instead of throwing.
 */
import { Transport } from '../lib/transport/transport.js';
import type { SessionConfig } from '../lib/config.js';
import { encode } from '../lib/codec/schema.js';
import { GlobalRequest } from '../lib/codec/messages/connection.js';
import { cipherAlgorithms, macAlgorithms } from '../lib/cipher/registry.js';
import { PacketWriter } from '../lib/transport/packet-writer.js';
import { duplexPair } from '../spec/helpers/pipes.js';
import { FuzzServer, HEALTH_REQUEST } from './server.js';
import type { MutatedSequence } from './mutate.js';

/** What a case did and what went wrong (an empty `problems` is a pass). */
export interface CaseOutcome {
  /** Messages handed to the transport before it ended. */
  sent: number;
  /** Of those, messages a mutation produced or changed. */
  mutatedSent: number;
  problems: string[];
}

const REPLIES = new Set([3, 81, 82]);
const probe = encode(GlobalRequest, { requestName: HEALTH_REQUEST, wantReply: true, data: new Uint8Array(0) });

/** Resolves `true` when `promise` settles within `ms`, `false` otherwise (never rejects). */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends the mutated post-NEWKEYS sequence over an encrypted session.
 * @param server the live server
 * @param sequence messages after the client's NEWKEYS (authentication onwards)
 * @param clientConfig the attacker's algorithms
 * @param deadlineMs how long each wait may take before it counts as a hang
 */
export async function runSessionCase(server: FuzzServer, sequence: MutatedSequence, clientConfig: SessionConfig, deadlineMs: number): Promise<CaseOutcome> {
  const outcome: CaseOutcome = { sent: 0, mutatedSent: 0, problems: [] };
  const [a, b] = duplexPair();
  const { ended } = server.start(b);
  const client = new Transport({ isServer: false, config: clientConfig });
  let replied: (() => void) | undefined;
  client.onMessage = (payload) => {
    if (replied !== undefined && REPLIES.has(payload[0]!)) replied();
    return true;
  };
  const clientClosed = client.closed.then(
    () => {},
    () => {},
  );
  const connected = client.connect(a).then(
    () => true,
    () => false,
  );
  if (!(await within(connected, deadlineMs))) outcome.problems.push('key exchange did not finish within the deadline');
  else if (!(await connected)) outcome.problems.push('key exchange of an unmutated prefix failed');
  else {
    for (const [i, message] of sequence.messages.entries()) {
      if (client.isClosed) break;
      const sending = client.send(message).then(
        () => true,
        () => false,
      );
      if (!(await within(sending, deadlineMs))) {
        outcome.problems.push(`sending message #${i} waited past the deadline (server stopped reading)`);
        break;
      }
      if (!(await sending)) break;
      outcome.sent++;
      if (sequence.mutated[i]) outcome.mutatedSent++;
    }
    if (!client.isClosed && outcome.problems.length === 0) {
      const answered = new Promise<void>((resolve) => (replied = resolve));
      void client.send(probe).catch(() => {});
      if (!(await within(Promise.race([answered, clientClosed]), deadlineMs))) {
        outcome.problems.push('server neither answered a global request nor ended the session');
      }
    }
  }
  await client.close().catch(() => {});
  if (!(await within(ended, deadlineMs))) outcome.problems.push('server session did not end after the client disconnected');
  return outcome;
}

/**
 * Writes the version line and the key-exchange payloads in plain packets, then ends the stream.
 * @param versionLine the (possibly mutated) identification line
 * @param sequence the (possibly mutated) key-exchange payloads
 */
export async function runKeyExchangeCase(server: FuzzServer, versionLine: Uint8Array, sequence: MutatedSequence, deadlineMs: number): Promise<CaseOutcome> {
  const outcome: CaseOutcome = { sent: 0, mutatedSent: 0, problems: [] };
  const [a, b] = duplexPair();
  const { ended } = server.start(b);
  const empty = { iv: new Uint8Array(0), encryptionKey: new Uint8Array(0), integrityKey: new Uint8Array(0) };
  const writer = new PacketWriter({ sealing: cipherAlgorithms.get('none')!.sealing(empty, macAlgorithms.get('none')), randomBytes: (n) => new Uint8Array(n) });
  // Whatever the server sends is read and dropped, so it never waits on us.
  const drained = a.readable.pipeTo(new WritableStream()).catch(() => {});
  const byteWriter = a.writable.getWriter();
  const writes: Promise<void>[] = [byteWriter.write(versionLine)];
  for (const [i, message] of sequence.messages.entries()) {
    writes.push(byteWriter.write(writer.write(message)));
    outcome.sent++;
    if (sequence.mutated[i]) outcome.mutatedSent++;
  }
  writes.push(byteWriter.close());
  await within(Promise.all(writes), deadlineMs);
  if (!(await within(ended, deadlineMs))) {
    outcome.problems.push('server session did not end after the key-exchange stream ended');
    await byteWriter.abort().catch(() => {});
  }
  await within(drained, deadlineMs);
  return outcome;
}
