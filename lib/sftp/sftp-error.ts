/**
 * SftpError: a status (draft-ietf-secsh-filexfer-02 §7) other than OK, or the SFTP connection
 * failing, as one SshError with the code, the server's message and the path involved.
 */
import { SshError } from '../errors.js';
import { statusName, type SftpStatus } from './constants.js';

/**
 * A failed SFTP operation.
 * @example try { await sftp.stat('/missing') } catch (e) { if (e instanceof SftpError && e.code === SftpStatus.NO_SUCH_FILE) ... }
 */
export class SftpError extends SshError {
  /** draft-02 §7 status code (a peer may send codes beyond `SftpStatus`). */
  readonly code: SftpStatus | number;
  /** The path (or handle's path) the operation was about, when there was one. */
  readonly path: string | undefined;
  /** The description alone, without path and code (what a server puts in its STATUS). */
  readonly description: string;

  /**
   * @param code the status code
   * @param description the server's message, or ours
   * @param options the path, and the cause
   */
  constructor(code: SftpStatus | number, description: string, options: { path?: string; cause?: unknown } = {}) {
    const what = description === '' ? statusName(code) : description;
    super(`${what}${options.path === undefined ? '' : `: ${options.path}`} (SFTP ${statusName(code)}, code ${code})`, { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.description = what;
  }
}
