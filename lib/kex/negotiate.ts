/**
 * Algorithm negotiation (RFC 4253 §7.1): for each kind, the first algorithm on the client's list
 * that the server also lists and that we implement. Also the first_kex_packet_follows guess rule
 * and the pseudo-algorithm markers (RFC 8308 §2.1 ext-info, OpenSSH PROTOCOL §1.10 strict kex).
 * Building and sending KEXINIT, and acting on the markers, belong to the transport's kex driver.
 */
import { cipherAlgorithms, macAlgorithms } from '../cipher/registry.js';
import type { KexInit } from '../codec/messages/transport.js';
import type { MessageOf } from '../codec/schema.js';
import { AlgorithmNegotiationError } from '../errors.js';
import { keyTypeOfAlgorithm } from '../keys/key-pair.js';
import { plainAlgorithmOf } from '../keys/certificate.js';
import { isKnownKex, KEX_NONE } from './registry.js';
import { isKnownCompression } from '../compression/names.js';

/** A decoded SSH_MSG_KEXINIT. */
export type KexInitMessage = MessageOf<typeof KexInit>;

/** Names that may appear in kex_algorithms but are signals, never methods. */
export const KEX_MARKERS = [
  'ext-info-c',
  'ext-info-s',
  'kex-strict-c-v00@openssh.com',
  'kex-strict-s-v00@openssh.com',
] as const;

/** A marker name from `KEX_MARKERS`. */
export type KexMarker = (typeof KEX_MARKERS)[number];

const markers: ReadonlySet<string> = new Set(KEX_MARKERS);

/** The outcome of RFC 4253 §7.1 negotiation, in RFC vocabulary. */
export interface NegotiatedAlgorithms {
  readonly kex: string;
  /**
   * Host key (signature) algorithm. Under the `none` kex no host key is used: it is the common
   * algorithm if there is one, else the string `none`.
   */
  readonly serverHostKey: string;
  readonly encryptionClientToServer: string;
  readonly encryptionServerToClient: string;
  /** Undefined only when the cipher is AEAD and the lists share no MAC (the MAC is unused then). */
  readonly macClientToServer: string | undefined;
  readonly macServerToClient: string | undefined;
  readonly compressionClientToServer: string;
  readonly compressionServerToClient: string;
}

/**
 * True when a KEXINIT's kex_algorithms carries the marker (RFC 8308 §2.1, OpenSSH PROTOCOL §1.10).
 * @param kexInit - either side's decoded KEXINIT
 * @param marker - e.g. `kex-strict-s-v00@openssh.com`
 */
export function hasMarker(kexInit: KexInitMessage, marker: KexMarker): boolean {
  return kexInit.kexAlgorithms.includes(marker);
}

function isKnownHostKey(name: string): boolean {
  try {
    keyTypeOfAlgorithm(plainAlgorithmOf(name));
    return true;
  } catch {
    return false;
  }
}

/** RFC 4253 §7.1: the first client name the server also offers and we implement. */
function firstCommon(client: readonly string[], server: readonly string[], known: (name: string) => boolean): string | undefined {
  const offered = new Set(server);
  return client.find((name) => offered.has(name) && known(name));
}

/** Which side we are, so an error's `ours` and `theirs` are the right lists. */
export type NegotiationRole = 'client' | 'server';

interface NameLists {
  readonly client: readonly string[];
  readonly server: readonly string[];
  readonly role: NegotiationRole;
}

function noCommon(kind: string, lists: NameLists): AlgorithmNegotiationError {
  return lists.role === 'client'
    ? new AlgorithmNegotiationError(kind, lists.client, lists.server)
    : new AlgorithmNegotiationError(kind, lists.server, lists.client);
}

function choose(kind: string, lists: NameLists, known: (name: string) => boolean): string {
  const chosen = firstCommon(lists.client, lists.server, known);
  if (chosen === undefined) throw noCommon(kind, lists);
  return chosen;
}

/** RFC 4253 §7.1, RFC 5647 §5.1: an AEAD cipher makes the MAC unused, so no common MAC is no failure. */
function chooseMac(kind: string, cipher: string, lists: NameLists): string | undefined {
  const chosen = firstCommon(lists.client, lists.server, (name) => macAlgorithms.has(name));
  if (chosen === undefined && !cipherAlgorithms.get(cipher)?.aead) throw noCommon(kind, lists);
  return chosen;
}

/**
 * RFC 4253 §7.1: negotiates every algorithm kind from the two KEXINIT messages (client's order
 * decides).
 * @param clientInit - the client's decoded KEXINIT
 * @param serverInit - the server's decoded KEXINIT
 * @param ourRole - which KEXINIT is ours; only labels `ours`/`theirs` in errors (default client)
 * @returns the chosen names, never one we do not implement nor a marker
 * @throws AlgorithmNegotiationError (KEY_EXCHANGE_FAILED) naming the kind and both lists
 */
export function negotiateAlgorithms(
  clientInit: KexInitMessage,
  serverInit: KexInitMessage,
  ourRole: NegotiationRole = 'client',
): NegotiatedAlgorithms {
  const pair = (key: keyof KexInitMessage): NameLists => ({
    client: clientInit[key] as readonly string[],
    server: serverInit[key] as readonly string[],
    role: ourRole,
  });
  const kex = choose('key exchange', pair('kexAlgorithms'), (name) => !markers.has(name) && isKnownKex(name));
  const hostKeys = pair('serverHostKeyAlgorithms');
  const serverHostKey =
    kex === KEX_NONE
      ? (firstCommon(hostKeys.client, hostKeys.server, isKnownHostKey) ?? KEX_NONE)
      : choose('host key', hostKeys, isKnownHostKey);
  const isKnownCipher = (name: string) => cipherAlgorithms.has(name);
  const encryptionClientToServer = choose('client-to-server cipher', pair('encryptionAlgorithmsClientToServer'), isKnownCipher);
  const encryptionServerToClient = choose('server-to-client cipher', pair('encryptionAlgorithmsServerToClient'), isKnownCipher);
  return {
    kex,
    serverHostKey,
    encryptionClientToServer,
    encryptionServerToClient,
    macClientToServer: chooseMac('client-to-server MAC', encryptionClientToServer, pair('macAlgorithmsClientToServer')),
    macServerToClient: chooseMac('server-to-client MAC', encryptionServerToClient, pair('macAlgorithmsServerToClient')),
    compressionClientToServer: choose(
      'client-to-server compression',
      pair('compressionAlgorithmsClientToServer'),
      isKnownCompression,
    ),
    compressionServerToClient: choose(
      'server-to-client compression',
      pair('compressionAlgorithmsServerToClient'),
      isKnownCompression,
    ),
  };
}

/** The first name of a list that is not a marker: the sender's preferred (guessed) algorithm. */
function preferred(names: readonly string[]): string | undefined {
  return names.find((name) => !markers.has(name));
}

/**
 * RFC 4253 §7 and §7.1 first_kex_packet_follows: a guessed first kex packet is wrong when the
 * two sides prefer different kex or host key algorithms, i.e. the first names of the lists
 * differ, even if the client's preferred one is what negotiation picks. OpenSSH (kex.c
 * proposals_match) and Go x/crypto/ssh apply the same rule; both sides must agree on it, because
 * the sender of a wrong guess sends its kex packet again and the receiver drops the guessed one.
 * @param clientInit - the client's decoded KEXINIT
 * @param serverInit - the server's decoded KEXINIT
 * @returns true when the packet that follows a KEXINIT with first_kex_packet_follows must be ignored
 */
export function isGuessWrong(clientInit: KexInitMessage, serverInit: KexInitMessage): boolean {
  return (
    preferred(clientInit.kexAlgorithms) !== preferred(serverInit.kexAlgorithms) ||
    clientInit.serverHostKeyAlgorithms[0] !== serverInit.serverHostKeyAlgorithms[0]
  );
}
