/**
 * Host key checking against an OpenSSH known_hosts file, as `ssh` does it (ssh(1) "VERIFYING
 * HOST KEYS", sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `@revoked` keys are refused, a host
 * certificate signed by a matching `@cert-authority` is trusted when it names the host, a listed
 * key is trusted, a different key of the same type is a changed key, anything else is unknown.
 * StrictHostKeyChecking `yes` refuses unknown hosts; `accept-new` appends their key and trusts it.
 */
import { KeyError } from '../errors.js';
import type { KeyPair } from './key-pair.js';
import type { Certificate } from './certificate.js';
import { toBase64 } from './formats/base64.js';
import { knownHostsMatches, parseKnownHostsLine, type KnownHostsEntry } from './known-hosts.js';

/** What the file says about a host key. */
export type KnownHostsStatus = 'trusted' | 'revoked' | 'changed' | 'unknown';

/** The verdict of `checkKnownHosts`. */
export interface KnownHostsVerdict {
  readonly status: KnownHostsStatus;
  /** Why, in words fit for the user (names the host and key type). */
  readonly reason: string;
  /** The line that decided, when one did. */
  readonly entry?: KnownHostsEntry | undefined;
}

/** The host being checked. */
export interface KnownHost {
  readonly host: string;
  /** Default 22 (written bare); other ports are written `[host]:port`. */
  readonly port?: number | undefined;
}

/** The parts of a client's `onAuthenticating` event the check needs. */
export interface HostKeyEvent {
  readonly publicKey: KeyPair;
  readonly certificate?: Certificate | undefined;
}

/**
 * Decides what known_hosts `text` says about `event`'s host key for `host`. Malformed lines are
 * skipped, as OpenSSH does. The certificate's signature, type and validity are the session's to
 * check (ClientSession does before calling `onAuthenticating`); here only trust is decided.
 * @example checkKnownHosts(readFileSync(path, 'utf8'), { host: 'example.com', port: 2222 }, e).status
 */
export function checkKnownHosts(text: string, host: KnownHost, event: HostKeyEvent): KnownHostsVerdict {
  const entries: KnownHostsEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    try {
      const entry = parseKnownHostsLine(line);
      if (entry) entries.push(entry);
    } catch {
      // A line we cannot read decides nothing.
    }
  }
  const name = describe(host);
  const { publicKey, certificate } = event;
  for (const entry of entries) {
    if (entry.marker !== '@revoked') continue;
    if (entry.key.equals(publicKey) || (certificate && entry.key.equals(certificate.signatureKey))) {
      return { status: 'revoked', reason: `The ${publicKey.keyType} host key of ${name} is marked @revoked`, entry };
    }
  }
  const matching = entries.filter((e) => knownHostsMatches(e, host.host, host.port));
  if (certificate) {
    const authority = matching.find((e) => e.marker === '@cert-authority' && e.key.equals(certificate.signatureKey));
    if (authority) {
      const principals = certificate.principals;
      if (principals.length > 0 && !principals.some((p) => p.toLowerCase() === host.host.toLowerCase())) {
        return { status: 'changed', reason: `The host certificate of ${name} does not name ${host.host} among its principals`, entry: authority };
      }
      return { status: 'trusted', reason: `The host certificate of ${name} is signed by a known @cert-authority`, entry: authority };
    }
  }
  const plain = matching.filter((e) => e.marker === undefined);
  const known = plain.find((e) => e.key.equals(publicKey));
  if (known) return { status: 'trusted', reason: `The ${publicKey.keyType} host key of ${name} is known`, entry: known };
  const other = plain.find((e) => e.key.keyType === publicKey.keyType);
  if (other) {
    return { status: 'changed', reason: `The ${publicKey.keyType} host key of ${name} has CHANGED from the one in known_hosts`, entry: other };
  }
  return { status: 'unknown', reason: `No ${publicKey.keyType} host key of ${name} is known` };
}

/** The file functions the verifier uses (node:fs/promises, installed by the Node platform file). */
export interface KnownHostsFiles {
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  appendFile(path: string, data: string, options: { mode: number }): Promise<void>;
}

let files: KnownHostsFiles | undefined;

/**
 * Installs the file backend of `knownHostsVerifier`; called once by the Node platform file.
 * @param fs node:fs/promises, or a runtime's compatible module
 */
export function installKnownHostsFiles(fs: KnownHostsFiles): void {
  files = fs;
}

/** Options of `knownHostsVerifier`. */
export interface KnownHostsVerifierOptions extends KnownHost {
  /** The known_hosts file (e.g. `~/.ssh/known_hosts`); a missing file is an empty one. */
  path: string;
  /** StrictHostKeyChecking: `yes` (default) refuses unknown hosts, `accept-new` appends and trusts them. */
  strictHostKeyChecking?: 'yes' | 'accept-new';
  /** Write appended host names hashed (`|1|salt|hash`, HashKnownHosts yes). Default false. */
  hashHosts?: boolean;
  /** Told every verdict (for messages like ssh's warnings); `added` when accept-new appended the key. */
  onVerdict?: (verdict: KnownHostsVerdict & { added: boolean }) => void;
}

/**
 * A ready `client.onAuthenticating` handler that checks the server's host key against a
 * known_hosts file. Node only (reads and appends the file with node:fs); elsewhere use `checkKnownHosts`.
 * @example client.onAuthenticating = knownHostsVerifier({ path: `${homedir()}/.ssh/known_hosts`, host, port, strictHostKeyChecking: 'accept-new' });
 */
export function knownHostsVerifier(options: KnownHostsVerifierOptions): (event: HostKeyEvent) => Promise<boolean> {
  return async (event) => {
    const fs = files;
    if (!fs) throw new KeyError('knownHostsVerifier reads a file with node:fs, which this runtime does not have (browser build): use checkKnownHosts');
    let text = '';
    try {
      text = await fs.readFile(options.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const verdict = checkKnownHosts(text, options, event);
    let added = false;
    if (verdict.status === 'unknown' && options.strictHostKeyChecking === 'accept-new') {
      const line = await knownHostsLine(options, event.publicKey, options.hashHosts ?? false);
      const separator = text === '' || text.endsWith('\n') ? '' : '\n';
      await fs.appendFile(options.path, `${separator}${line}\n`, { mode: 0o600 });
      added = true;
    }
    options.onVerdict?.({ ...verdict, added });
    return verdict.status === 'trusted' || added;
  };
}

/**
 * The known_hosts line for `key` on `host` (`[host]:port` for ports other than 22), with the name
 * hashed as `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` when `hashed`.
 * @example await knownHostsLine({ host: 'example.com', port: 2222 }, key, false) // '[example.com]:2222 ssh-ed25519 AAAA...'
 */
export async function knownHostsLine(host: KnownHost, key: KeyPair, hashed: boolean): Promise<string> {
  const bare = host.port === undefined || host.port === 22 ? host.host.toLowerCase() : `[${host.host.toLowerCase()}]:${host.port}`;
  const name = hashed ? await hashName(bare) : bare;
  return `${name} ${key.keyType} ${toBase64(key.publicKeyBlob)}`;
}

async function hashName(name: string): Promise<string> {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(20));
  const subtle = globalThis.crypto.subtle;
  if (!subtle) throw new KeyError('Hashing known_hosts names needs WebCrypto (crypto.subtle)');
  const hmacKey = await subtle.importKey('raw', salt, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  const mac = new Uint8Array(await subtle.sign('HMAC', hmacKey, new TextEncoder().encode(name)));
  return `|1|${toBase64(salt)}|${toBase64(mac)}`;
}

function describe(host: KnownHost): string {
  return host.port === undefined || host.port === 22 ? host.host : `[${host.host}]:${host.port}`;
}
