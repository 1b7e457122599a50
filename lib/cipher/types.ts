/**
 * The packet-protection strategies the packet stage asks (RFC 4253 §6, §6.3-6.4; RFC 5647;
 * OpenSSH PROTOCOL.chacha20poly1305; OpenSSH PROTOCOL §1.5 for EtM MACs). These are not streams:
 * framing and decryption are one operation because the packet length may be encrypted, so the
 * packet reader asks the OpeningKey how many bytes to read before the length is known.
 */

/** Inbound direction: verifies and decrypts packets, one at a time, strictly in sequence. */
export interface OpeningKey {
  /**
   * Bytes to read before `decryptLength` can run: 4 when the length is clear (EtM, AES-GCM, none)
   * or a stream cipher can decrypt it alone (CTR, chacha20's K_1); the cipher block (16) for CBC.
   */
  readonly lengthPrefixBytes: number;
  /** Bytes of MAC or AEAD tag that follow each packet. */
  readonly tagLength: number;
  /**
   * Returns `packet_length` from the first `lengthPrefixBytes` bytes of a packet. May decrypt
   * (CTR/CBC without EtM, chacha20's length key); must not modify `prefix`. Call it once per
   * packet before `open`; a repeated call with the same sequence returns the same length without
   * advancing a stateful cipher. Throws ProtocolError (PROTOCOL_ERROR) when the length is out of
   * range (see MAX_PACKET_LENGTH in packet-length.ts) or not aligned to the block size.
   */
  decryptLength(sequence: number, prefix: Uint8Array): number;
  /**
   * Verifies and decrypts one whole packet: `packet` holds exactly the 4-byte length,
   * `packet_length` bytes and the tag. Returns `padding_length || payload || padding` in clear,
   * as a fresh buffer or (cipher `none`) a view into `packet`; checking padding_length is the
   * packet stage's job. Throws a ProtocolError with reason MAC_ERROR on a bad tag, before
   * anything is interpreted.
   */
  open(sequence: number, packet: Uint8Array): Uint8Array;
  /** Wipes key material. */
  destroy(): void;
}

/** Outbound direction: seals packets, one at a time, strictly in sequence. */
export interface SealingKey {
  /** Padding alignment (RFC 4253 §6: at least 8, the cipher block size otherwise). */
  readonly blockSize: number;
  /**
   * True when the 4-byte length is left out of the padding alignment (EtM, AES-GCM,
   * chacha20-poly1305): then `padding_length || payload || padding` is a multiple of blockSize.
   */
  readonly lengthExcludedFromPadding: boolean;
  /** Bytes of MAC or AEAD tag appended to each packet. */
  readonly tagLength: number;
  /**
   * Seals one packet. `packet` holds `packet_length || padding_length || payload || padding`
   * followed by `tagLength` spare bytes. Returns the wire bytes (which may be `packet` itself,
   * encrypted in place with the tag written into the spare bytes).
   */
  seal(sequence: number, packet: Uint8Array): Uint8Array;
  /**
   * Optional: seals like `seal` but leaves `packet` untouched and returns the wire bytes as pieces
   * that never share memory with it (their concatenation is what `seal` returns), so the packet
   * buffer can be used again at once. Offered where the cipher writes its output to fresh memory
   * anyway (node:crypto's AES-GCM and ChaCha20), which spares the copy back into `packet`.
   */
  sealPieces?(sequence: number, packet: Uint8Array): Uint8Array[];
  /** Wipes key material. */
  destroy(): void;
}

/** RFC 4253 §6.3 cipher algorithm: key sizes and how to build each direction. */
export interface CipherAlgorithm {
  readonly name: string;
  readonly keyLength: number;
  readonly ivLength: number;
  readonly blockSize: number;
  /** AEAD ciphers ignore the negotiated MAC (RFC 5647 §5.1, OpenSSH PROTOCOL.chacha20poly1305). */
  readonly aead: boolean;
  /** Builds the inbound strategy; `mac` is undefined for AEAD ciphers. */
  opening(keys: DirectionKeys, mac: MacAlgorithm | undefined): OpeningKey;
  /** Builds the outbound strategy; `mac` is undefined for AEAD ciphers. */
  sealing(keys: DirectionKeys, mac: MacAlgorithm | undefined): SealingKey;
}

/** RFC 4253 §6.4 MAC algorithm (or OpenSSH encrypt-then-MAC variant). */
export interface MacAlgorithm {
  readonly name: string;
  readonly keyLength: number;
  readonly macLength: number;
  /** OpenSSH PROTOCOL §1.5: MAC over the ciphertext; the packet length travels in clear. */
  readonly encryptThenMac: boolean;
  /** The hash, by its node:crypto name (`sha256`, `sha512`); every backend picks its hash by it. */
  readonly digest: string;
}

/** The derived key material for one direction (RFC 4253 §7.2: IV, encryption key, integrity key). */
export interface DirectionKeys {
  iv: Uint8Array;
  encryptionKey: Uint8Array;
  integrityKey: Uint8Array;
}
