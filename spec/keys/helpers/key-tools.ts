/**
 * Test helpers that drive the reference tools: ssh-keygen and openssl, run with explicit argument
 * lists in a temporary directory, so key files are made and read back at test time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs ssh-keygen with `args`, returning stdout. */
export function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs openssl with `args`, returning stdout. */
export function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A fresh temporary directory and its cleanup. */
export function makeWorkDir(): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-streams-keys-'));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a key file with the 0600 mode ssh-keygen insists on for private keys. */
export function writeKeyFile(path: string, text: string): string {
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** `<type> <base64>` of a one-line public key, without the comment. */
export function typeAndBlob(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** The public key ssh-keygen derives from a private key file (`ssh-keygen -y`), without the comment. */
export function sshKeygenPublic(path: string, passphrase = ''): string {
  return typeAndBlob(sshKeygen(['-y', '-P', passphrase, '-f', path]));
}

/** The SPKI PEM openssl derives from a private key file (`openssl pkey -pubout`). */
export function opensslPublic(path: string, passphrase = ''): string {
  return openssl(['pkey', '-in', path, '-passin', `pass:${passphrase}`, '-pubout']);
}
