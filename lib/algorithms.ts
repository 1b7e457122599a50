/**
 * Typed constants for the exact SSH wire names of every algorithm ssh-streams implements.
 * Config lists hold plain strings; these constants only spare users from typos.
 */

/** Algorithm wire names, grouped by kind. */
export const Algorithms = {
  kex: {
    mlkem768x25519Sha256: 'mlkem768x25519-sha256',
    curve25519Sha256: 'curve25519-sha256',
    curve25519Sha256Libssh: 'curve25519-sha256@libssh.org',
    ecdhNistp521: 'ecdh-sha2-nistp521',
    ecdhNistp384: 'ecdh-sha2-nistp384',
    ecdhNistp256: 'ecdh-sha2-nistp256',
    dhGroup16Sha512: 'diffie-hellman-group16-sha512',
    dhGroup14Sha256: 'diffie-hellman-group14-sha256',
    none: 'none',
  },
  publicKey: {
    ed25519: 'ssh-ed25519',
    ecdsaNistp521: 'ecdsa-sha2-nistp521',
    ecdsaNistp384: 'ecdsa-sha2-nistp384',
    ecdsaNistp256: 'ecdsa-sha2-nistp256',
    rsaSha2_512: 'rsa-sha2-512',
    rsaSha2_256: 'rsa-sha2-256',
    /** SHA-1 RSA signatures: off by default, enable only for legacy peers. */
    insecureSshRsa: 'ssh-rsa',
    /** OpenSSH certificates (PROTOCOL.certkeys): the key signs under the plain name without the suffix. */
    ed25519Cert: 'ssh-ed25519-cert-v01@openssh.com',
    ecdsaNistp521Cert: 'ecdsa-sha2-nistp521-cert-v01@openssh.com',
    ecdsaNistp384Cert: 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
    ecdsaNistp256Cert: 'ecdsa-sha2-nistp256-cert-v01@openssh.com',
    rsaSha2_512Cert: 'rsa-sha2-512-cert-v01@openssh.com',
    rsaSha2_256Cert: 'rsa-sha2-256-cert-v01@openssh.com',
  },
  encryption: {
    aes256Gcm: 'aes256-gcm@openssh.com',
    aes128Gcm: 'aes128-gcm@openssh.com',
    chacha20Poly1305: 'chacha20-poly1305@openssh.com',
    aes256Ctr: 'aes256-ctr',
    aes192Ctr: 'aes192-ctr',
    aes128Ctr: 'aes128-ctr',
    aes256Cbc: 'aes256-cbc',
    none: 'none',
  },
  hmac: {
    hmacSha512Etm: 'hmac-sha2-512-etm@openssh.com',
    hmacSha256Etm: 'hmac-sha2-256-etm@openssh.com',
    hmacSha512: 'hmac-sha2-512',
    hmacSha256: 'hmac-sha2-256',
    none: 'none',
  },
  compression: {
    none: 'none',
    /** OpenSSH PROTOCOL §2: zlib that starts once user authentication succeeded. */
    zlibOpenssh: 'zlib@openssh.com',
    /** RFC 4253 §6.2: zlib from the first NEWKEYS on, so before authentication too. */
    zlib: 'zlib',
  },
} as const;

/** Protocol extensions (RFC 8308 and the Microsoft extensions, reference §2). */
export const ProtocolExtensions = {
  serverSignatureAlgorithms: 'server-sig-algs',
  openChannelRequest: 'open-channel-request@microsoft.com',
  sessionReconnect: 'session-reconnect@microsoft.com',
  sessionLatency: 'session-latency@microsoft.com',
} as const;

/** Authentication method names (RFC 4252 §5, RFC 4256). */
export const AuthenticationMethods = {
  none: 'none',
  password: 'password',
  publicKey: 'publickey',
  keyboardInteractive: 'keyboard-interactive',
} as const;
