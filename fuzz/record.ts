/**
 * Records a real exchange for the fuzzer to mutate: a ClientSession against the fuzz server, read
 * off the wire: the version line and the key exchange (KEXINIT, ECDH_INIT, NEWKEYS) of a session with
 * the default ciphers, then, from a second run with the cipher and MAC `none` after the key
 * exchange, every payload after NEWKEYS: authentication (none, a wrong password, the right one), global requests, two
 * `session` channels with pty-req, env, exec and subsystem, data both ways, window adjusts, EOF,
 * CLOSE, and a refused direct-tcpip open.
 */
import { ClientSession } from '../lib/client-session.js';
import { SessionConfig } from '../lib/config.js';
import { Algorithms } from '../lib/algorithms.js';
import { cipherAlgorithms, macAlgorithms } from '../lib/cipher/registry.js';
import { PacketReader } from '../lib/transport/packet-reader.js';
import { concatBytes } from '../lib/codec/wire.js';
import { duplexPair, readAll } from '../spec/helpers/pipes.js';
import { FuzzServer, HEALTH_REQUEST } from './server.js';

/** One recorded exchange: what the client sent, split where the encryption would start. */
export interface RecordedExchange {
  /** The client's identification line with its CR LF. */
  versionLine: Uint8Array;
  /** Payloads up to and including the client's NEWKEYS (sent in plain in every real session). */
  keyExchange: Uint8Array[];
  /** Payloads after NEWKEYS: authentication and the connection protocol. */
  session: Uint8Array[];
}

const NEWKEYS = 21;

/**
 * Client and server configs of a recording: a real curve25519 key exchange, then either the
 * default packet protection (the key exchange is what is kept) or none (the session is kept).
 */
function recordingConfigs(plain: boolean): { client: SessionConfig; server: SessionConfig } {
  const client = SessionConfig.default();
  client.keyExchangeAlgorithms = [Algorithms.kex.curve25519Sha256];
  client.compressionAlgorithms = [Algorithms.compression.none];
  if (!plain) return { client, server: SessionConfig.default() };
  client.encryptionAlgorithms = [Algorithms.encryption.none];
  client.hmacAlgorithms = [Algorithms.hmac.none];
  const server = SessionConfig.default();
  server.encryptionAlgorithms = [...server.encryptionAlgorithms, Algorithms.encryption.none];
  server.hmacAlgorithms = [...server.hmacAlgorithms, Algorithms.hmac.none];
  return { client, server };
}

/** Splits the client's byte stream into the version line and its payloads (an encrypted stream only up to its NEWKEYS). */
function parseClientStream(bytes: Uint8Array, plain: boolean): RecordedExchange {
  const lineEnd = bytes.indexOf(0x0a) + 1;
  const none = () => cipherAlgorithms.get('none')!.opening({ iv: new Uint8Array(0), encryptionKey: new Uint8Array(0), integrityKey: new Uint8Array(0) }, macAlgorithms.get('none'));
  const reader = new PacketReader({ opening: none(), maxPacketLength: 256 * 1024 });
  reader.push(bytes.subarray(lineEnd));
  const keyExchange: Uint8Array[] = [];
  const session: Uint8Array[] = [];
  let afterNewKeys = false;
  for (;;) {
    if (reader.awaitingKeys) reader.prepareKeys(none());
    const payload = reader.next();
    if (payload === undefined) break;
    (afterNewKeys ? session : keyExchange).push(payload.slice());
    if (payload[0] === NEWKEYS) {
      // Past NEWKEYS an encrypted recording is ciphertext.
      if (!plain) break;
      afterNewKeys = true;
    }
  }
  return { versionLine: bytes.slice(0, lineEnd), keyExchange, session };
}

/**
 * Runs the scripted exchange twice against a server with `server`'s host key: once with the
 * default ciphers, whose key exchange the live server accepts when replayed, once in plain after
 * the key exchange, for the session's payloads.
 * @returns what the client sent
 */
export async function recordExchange(server: FuzzServer): Promise<RecordedExchange> {
  const { versionLine, keyExchange } = await recordOnce(server, false);
  const { session } = await recordOnce(server, true);
  return { versionLine, keyExchange, session };
}

/** Runs the scripted exchange once and parses what the client sent. */
async function recordOnce(server: FuzzServer, plain: boolean): Promise<RecordedExchange> {
  const configs = recordingConfigs(plain);
  const recordingServer = new FuzzServer(server.hostKey, configs.server);
  const [a, b] = duplexPair();
  const sent: Uint8Array[] = [];
  const writer = a.writable.getWriter();
  const tapped = {
    readable: a.readable,
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => {
        sent.push(chunk.slice());
        return writer.write(chunk);
      },
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    }),
  };
  const { ended } = recordingServer.start(b);
  const client = new ClientSession(configs.client);
  client.onAuthenticating = (e) => e.publicKey.equals(server.hostKey);
  await client.connect(tapped);
  if (await client.authenticate({ username: 'user', password: 'wrong' })) throw new Error('Recording: a wrong password was accepted');
  if (!(await client.authenticate({ username: 'user', password: 'secret' }))) throw new Error('Recording: authentication failed');
  await client.request({ requestType: HEALTH_REQUEST, wantReply: true });
  await client.request({ requestType: 'tcpip-forward', wantReply: true, data: new Uint8Array([0, 0, 0, 9, ...new TextEncoder().encode('127.0.0.1'), 0, 0, 0x1f, 0x90]) });

  const shell = await client.openChannel();
  await shell.requestPty({ term: 'xterm-256color', columns: 120, rows: 40, modes: { 53: 1, 128: 38400 } });
  await shell.setEnv('LANG', 'C.UTF-8');
  if (!(await shell.exec('cat'))) throw new Error('Recording: exec refused');
  await shell.resizePty({ columns: 100, rows: 30 });
  const input = new Uint8Array(48 * 1024).map((_, i) => i * 7);
  const echoed = readAll(shell.readable);
  const shellWriter = shell.writable.getWriter();
  for (let at = 0; at < input.length; at += 16 * 1024) await shellWriter.write(input.subarray(at, at + 16 * 1024));
  await shell.signal('INT');
  await shellWriter.close();
  const got = await echoed;
  if (got.length !== input.length) throw new Error(`Recording: echoed ${got.length} of ${input.length} bytes`);
  await shell.closed;

  const subsystem = await client.openChannel();
  if (!(await subsystem.subsystem('sftp'))) throw new Error('Recording: subsystem refused');
  const subsystemWriter = subsystem.writable.getWriter();
  await subsystemWriter.write(new TextEncoder().encode('hello'));
  await subsystem.close();

  await client.openChannel('direct-tcpip').then(
    () => {
      throw new Error('Recording: direct-tcpip was accepted');
    },
    () => {},
  );
  await client.close();
  await ended;
  return parseClientStream(concatBytes(...sent), plain);
}
