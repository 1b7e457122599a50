/**
 * The shapes the benchmark shares: what a peer library must provide (a TCP server, an
 * authenticated client link, channel pairs that move bytes) and the results it reports. Each
 * peer file adapts one library to these; the scenarios never touch a library directly.
 */

/** Which end writes: the client (upload) or the server (download). */
export type Direction = 'client-to-server' | 'server-to-client';

/** Both ends of one channel, opened by the client and accepted by the server. */
export interface ChannelPair {
  /** Writes `bytes` from the sending end in `chunkSize` writes; resolves once the other end has read them all. */
  transfer(direction: Direction, bytes: number, chunkSize: number): Promise<void>;
  /** Closes the channel. */
  close(): Promise<void>;
}

/** A connected, authenticated client session and the server session it talks to. */
export interface Link {
  /** The cipher both directions negotiated (read back from the library, not assumed). */
  readonly cipher: string;
  /** The key exchange method negotiated. */
  readonly kex: string;
  /** Opens a channel from the client; resolves once the server side accepted it too. */
  openChannel(): Promise<ChannelPair>;
  /** Ends the session. */
  close(): Promise<void>;
}

/** A listening server of one library, and a way to connect that library's client to it. */
export interface PeerServer {
  /** Connects, runs the key exchange with `cipher` and authenticates by password. */
  connect(cipher: string): Promise<Link>;
  /** Stops listening and ends every session. */
  close(): Promise<void>;
}

/** One SSH library under test. */
export interface Peer {
  readonly name: string;
  /** Ciphers of the benchmark this library implements. */
  readonly ciphers: readonly string[];
  /** Starts a server on 127.0.0.1 (random port); `kex`, when given, is the only key exchange its client offers. */
  start(options?: { kex?: string }): Promise<PeerServer>;
}

/** Single-channel bulk throughput; `mbPerSecond` in 10^6 bytes per second, the median of `runs`. */
export interface ThroughputResult {
  readonly scenario: 'throughput';
  readonly peer: string;
  readonly cipher: string;
  readonly direction: Direction;
  readonly bytes: number;
  /** False when the library lacks the cipher; no figure is given then. */
  readonly supported: boolean;
  readonly seconds?: number;
  readonly mbPerSecond?: number;
  /** MB/s of every round, in order. */
  readonly runs?: readonly number[];
  /**
   * CPU milliseconds per MiB the process spent (both ends, all threads: the collector's helpers
   * count), the median of `cpuRuns`; steadier than the rate when the machine is shared.
   */
  readonly cpuMsPerMiB?: number;
  readonly cpuRuns?: readonly number[];
}

/** Connect + key exchange + authentication + first channel open, over `samples` fresh sessions. */
export interface SetupResult {
  readonly scenario: 'setup';
  readonly peer: string;
  readonly kex: string;
  readonly samples: number;
  readonly medianMs: number;
  readonly minMs: number;
  /** Median CPU time of the process (both ends, every thread) per setup: steadier than wall time on a busy machine. */
  readonly medianCpuMs: number;
  /** True for the row measured with the key exchange pinned to `comparisonKex` (scenarios.ts). */
  readonly pinnedKex?: boolean;
}

/** Many concurrent channels on one session: open time, and memory of both ends per channel. */
export interface ChannelsResult {
  readonly scenario: 'channels';
  readonly peer: string;
  readonly count: number;
  /** From the first open to the last one accepted by the server. */
  readonly openMs: number;
  /** CPU time of the process (both ends, every thread) over the same span. */
  readonly openCpuMs: number;
  /** Heap growth (after GC) of client and server ends together, divided by `count`. */
  readonly heapBytesPerChannel: number;
  /** RSS growth divided by `count` (coarse: the allocator keeps pages it once used). */
  readonly rssBytesPerChannel: number;
}

/** A 256 MiB file through SFTP: one client against one server, one direction (bench/sftp.ts). */
export interface SftpResult {
  readonly scenario: 'sftp';
  /** The SFTP client: ssh-streams, ssh2 (fastGet/fastPut) or openssh (`sftp -b`, timed from its target file's creation). */
  readonly peer: string;
  /** The SFTP server: OpenSSH's sftp-server behind sshd, or ssh-streams' serveSftp. */
  readonly server: 'sftp-server' | 'ssh-streams';
  readonly direction: 'download' | 'upload';
  readonly bytes: number;
  /** 10^6 bytes per second, the median of `runs`. */
  readonly mbPerSecond: number;
  readonly runs: readonly number[];
  /** Peak RSS of the benchmark process during the transfers, when it holds the client or the server. */
  readonly peakRssMiB?: number;
  /** Peak JS heap plus buffers (heapUsed + external) during the transfers, same condition. */
  readonly peakLiveMiB?: number;
}

/** One channel between a Chromium page (the library's browser build) and a Node server, over a WebSocket (bench/browser.ts). */
export interface BrowserResult {
  readonly scenario: 'browser';
  readonly peer: string;
  readonly cipher: string;
  /** client-to-server: the page seals; server-to-client: the page opens. */
  readonly direction: Direction;
  readonly bytes: number;
  /** 10^6 bytes per second of wall-clock time, the median of `runs`. */
  readonly mbPerSecond: number;
  readonly runs: readonly number[];
  /** 10^6 bytes per CPU second of the page's renderer process, all rounds. */
  readonly pageCpuMbPerSecond: number;
  /** The same for Chromium's other processes (browser, network service: the WebSocket's bytes pass there). */
  readonly chromiumCpuMbPerSecond: number;
  /** The same for the Node server (the benchmark process). */
  readonly serverCpuMbPerSecond: number;
}

/** N bytes between a client and OpenSSH's sshd through one channel (bench/sshd.ts). */
export interface SshdResult {
  readonly scenario: 'sshd';
  /** The client: ssh-streams, ssh2 (native addon), ssh2-no-addon, or openssh (`ssh`, connect time taken off). */
  readonly peer: 'ssh-streams' | 'ssh2' | 'ssh2-no-addon' | 'openssh';
  readonly cipher: string;
  /** download: `head -c N` read by the client; upload: written into `cat`; forward: a local TCP target read through `-L`. */
  readonly direction: 'download' | 'upload' | 'forward';
  readonly bytes: number;
  /** 10^6 bytes per second, the median of `runs`. */
  readonly mbPerSecond: number;
  readonly runs: readonly number[];
  /**
   * The Node clients only: CPU milliseconds per MiB moved that the client's process spent (all its
   * threads, the run moving nothing taken off), the median of `clientCpuRuns`. Steadier than the
   * rate when the machine is shared.
   */
  readonly clientCpuMsPerMiB?: number;
  readonly clientCpuRuns?: readonly number[];
}

/** One row of the results, by scenario. */
export type BenchResult = ThroughputResult | SetupResult | ChannelsResult | SftpResult | SshdResult | BrowserResult;

/** Sizes and selection of one benchmark run. */
export interface BenchOptions {
  /** Bytes per throughput measurement (256 MiB by default). */
  bytes: number;
  /** Size of each write into the channel. */
  chunkSize: number;
  /** Throughput rounds per peer, cipher and direction (the table shows their median). */
  rounds: number;
  /** Fresh sessions timed for the setup median. */
  setupSamples: number;
  /** Concurrent channels opened on one session. */
  channels: number;
  /** Ciphers measured for throughput. */
  ciphers: readonly string[];
  /** Peers to run (by name); all when empty. */
  only: readonly string[];
  /** Progress lines (the CLI prints them; the smoke spec does not). */
  log?: (line: string) => void;
}
