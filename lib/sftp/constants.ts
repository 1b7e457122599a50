/**
 * SFTP version 3 numbers (draft-ietf-secsh-filexfer-02 §3, §5, §7) and the OpenSSH extension
 * names (OpenSSH PROTOCOL §4). Values only: the message layouts are in messages.ts.
 */

/** The protocol version both sides speak: draft-ietf-secsh-filexfer-02 is version 3. */
export const SFTP_VERSION = 3;

/** draft-ietf-secsh-filexfer-02 §3: packet types. */
export const SftpPacketType = {
  init: 1,
  version: 2,
  open: 3,
  close: 4,
  read: 5,
  write: 6,
  lstat: 7,
  fstat: 8,
  setstat: 9,
  fsetstat: 10,
  opendir: 11,
  readdir: 12,
  remove: 13,
  mkdir: 14,
  rmdir: 15,
  realpath: 16,
  stat: 17,
  rename: 18,
  readlink: 19,
  symlink: 20,
  status: 101,
  handle: 102,
  data: 103,
  name: 104,
  attrs: 105,
  extended: 200,
  extendedReply: 201,
} as const;

/**
 * draft-ietf-secsh-filexfer-02 §7: status codes, as carried by `SftpError.code`.
 * @example if (error instanceof SftpError && error.code === SftpStatus.NO_SUCH_FILE) create();
 */
export const SftpStatus = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;
/** One of the draft-02 §7 status codes (a peer may send others; they are kept as numbers). */
export type SftpStatus = (typeof SftpStatus)[keyof typeof SftpStatus];

/** The name of a status code, for messages. */
export function statusName(code: number): string {
  const entry = Object.entries(SftpStatus).find(([, value]) => value === code);
  return entry === undefined ? `status ${code}` : entry[0];
}

/** draft-ietf-secsh-filexfer-02 §6.3: SSH_FXP_OPEN pflags. */
export const OpenFlags = {
  read: 0x01,
  write: 0x02,
  append: 0x04,
  creat: 0x08,
  trunc: 0x10,
  excl: 0x20,
} as const;

/** draft-ietf-secsh-filexfer-02 §5: which ATTRS fields are present. */
export const AttrFlags = {
  size: 0x01,
  uidgid: 0x02,
  permissions: 0x04,
  acmodtime: 0x08,
  extended: 0x80000000,
} as const;

/** OpenSSH PROTOCOL §4: the extensions both sides understand, with the version string each announces. */
export const SftpExtension = {
  posixRename: 'posix-rename@openssh.com',
  statvfs: 'statvfs@openssh.com',
  fstatvfs: 'fstatvfs@openssh.com',
  hardlink: 'hardlink@openssh.com',
  fsync: 'fsync@openssh.com',
  limits: 'limits@openssh.com',
} as const;

/** Versions announced in VERSION for each extension (OpenSSH PROTOCOL §4). */
export const SFTP_EXTENSION_VERSIONS: Readonly<Record<string, string>> = {
  [SftpExtension.posixRename]: '1',
  [SftpExtension.statvfs]: '2',
  [SftpExtension.fstatvfs]: '2',
  [SftpExtension.hardlink]: '1',
  [SftpExtension.fsync]: '1',
  [SftpExtension.limits]: '1',
};

/**
 * OpenSSH PROTOCOL §4.1: OpenSSH (and peers that copied it, and this library) send SYMLINK's
 * target before the link path; other servers follow the draft.
 */
export function hasReversedSymlink(version: string): boolean {
  return /^SSH-2\.0-(OpenSSH|dropbear|ssh-streams)/i.test(version);
}
