/**
 * Host key verification for `ssh-streams connect`, with ssh(1)'s StrictHostKeyChecking policies
 * over OpenSSH known_hosts files: a known key passes, a different key of the same type or a
 * revoked key is always refused, an unknown host is asked about (`ask`), added (`accept-new`,
 * `no`) or refused (`yes`). Accepted new keys are appended to the user's known_hosts.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyPair } from '../index.node.js';
import { exportPublicKey, getFingerprint, KeyFormat, knownHostsMatches, parseKnownHostsLine, type KnownHostsEntry } from '../keys/index.node.js';

/** ssh_config(5) StrictHostKeyChecking values. */
export const HOST_KEY_POLICIES = ['ask', 'accept-new', 'yes', 'no'] as const;
/** What happens for a host that no known_hosts file knows. */
export type HostKeyPolicy = (typeof HOST_KEY_POLICIES)[number];

/** Options of {@link checkHostKey}. */
export interface HostKeyCheckOptions {
  host: string;
  port: number;
  policy: HostKeyPolicy;
  /** known_hosts files to read; a new key is appended to the first. */
  knownHostsFiles: string[];
  /** Asks the yes/no question of the `ask` policy. */
  ask: (question: string) => Promise<string>;
  /** Where warnings go (stderr). */
  warn: (message: string) => void;
}

/** `host` on port 22, `[host]:port` elsewhere, as known_hosts writes names. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function readEntries(files: readonly string[]): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      try {
        const entry = parseKnownHostsLine(line);
        if (entry !== undefined) entries.push(entry);
      } catch {
        // ssh(1) skips lines it cannot read, and so do we.
      }
    }
  }
  return entries;
}

/**
 * Decides whether to trust the server's host key.
 * @returns true to go on with the connection
 */
export async function checkHostKey(key: KeyPair, options: HostKeyCheckOptions): Promise<boolean> {
  const { host, port } = options;
  const name = knownHostsName(host, port);
  const matching = readEntries(options.knownHostsFiles).filter((entry) => knownHostsMatches(entry, host, port));
  if (matching.some((entry) => entry.marker === '@revoked' && entry.key.equals(key))) {
    options.warn(`The ${key.keyType} host key of ${name} is marked as revoked in known_hosts: refused`);
    return false;
  }
  const sameType = matching.filter((entry) => entry.marker === undefined && entry.key.keyType === key.keyType);
  if (sameType.some((entry) => entry.key.equals(key))) return true;
  const fingerprint = getFingerprint(key);
  if (sameType.length > 0) {
    options.warn(
      `WARNING: the ${key.keyType} host key of ${name} has changed (now ${fingerprint}). ` +
        `Someone could be intercepting the connection, or the host key was replaced. Refused; ` +
        `if the change is expected, remove the old key from ${options.knownHostsFiles.join(' or ')}`,
    );
    return false;
  }
  switch (options.policy) {
    case 'yes':
      options.warn(`No ${key.keyType} host key is known for ${name} and strict host key checking is on: refused (${fingerprint})`);
      return false;
    case 'ask': {
      const question =
        `The authenticity of host '${name}' can't be established.\n` +
        `${key.keyType} key fingerprint is ${fingerprint}.\n` +
        'Are you sure you want to continue connecting (yes/no)? ';
      const answer = (await options.ask(question)).trim().toLowerCase();
      if (answer !== 'yes') {
        options.warn('Host key verification failed');
        return false;
      }
      break;
    }
    default:
      break;
  }
  await remember(key, name, options);
  return true;
}

async function remember(key: KeyPair, name: string, options: HostKeyCheckOptions): Promise<void> {
  const file = options.knownHostsFiles[0];
  if (file === undefined) return;
  const [type, base64] = (await exportPublicKey(key, KeyFormat.Ssh)).split(' ');
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${name} ${type} ${base64}\n`, { mode: 0o600 });
  options.warn(`Permanently added '${name}' (${key.keyType}) to the list of known hosts`);
}
