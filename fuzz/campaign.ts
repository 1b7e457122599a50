/**
 * A fuzz campaign: records one real exchange, then for N iterations mutates it (a key-exchange
 * case now and then, otherwise the encrypted part) and runs the case against one live server,
 * checking after each that a long-lived well-behaved session still works (and, every
 * `freshSessionEvery` iterations, that a new one does). At the end every session is closed and
 * the leak checks run: no server session or channel left open, no timer left behind. Exceptions
 * that escape to the process are caught and counted as findings.
 */
import { ClientSession } from '../lib/client-session.js';
import { SessionConfig } from '../lib/config.js';
import { Algorithms } from '../lib/algorithms.js';
import type { KeyPair } from '../lib/keys/key-pair.js';
import { duplexPair } from '../spec/helpers/pipes.js';
import { FuzzServer, HEALTH_REQUEST } from './server.js';
import { recordExchange, type RecordedExchange } from './record.js';
import { mutateSequence } from './mutate.js';
import { FuzzRandom } from './random.js';
import { runKeyExchangeCase, runSessionCase, within } from './cases.js';

/** Options of a campaign. */
export interface FuzzOptions {
  seed: number;
  iterations: number;
  /** First iteration number (replays a reported case with iterations 1). */
  from?: number;
  /** Longest wait of one step before it counts as a hang. */
  deadlineMs?: number;
  /** A fresh well-behaved session every this many iterations (the long-lived one is checked every time). */
  freshSessionEvery?: number;
  /** Stop once this many mutated messages were sent (before `iterations` ran out). */
  targetMutatedMessages?: number;
  /** Stop after this many minutes. */
  maxMinutes?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  hostKey: KeyPair;
}

/** One problem, with what replays it. */
export interface FuzzFinding {
  iteration: number;
  kind: 'session' | 'key exchange' | 'health' | 'process' | 'leak';
  problem: string;
  mutations: string[];
}

/** What a campaign did. */
export interface FuzzReport {
  seed: number;
  iterations: number;
  sessionCases: number;
  keyExchangeCases: number;
  messagesSent: number;
  mutatedMessagesSent: number;
  mutatedMessagesGenerated: number;
  healthChecks: number;
  seconds: number;
  memory: { heapUsedStartMiB: number; heapUsedEndMiB: number; rssEndMiB: number };
  leaks: { openSessions: number; openChannels: number; timersBefore: number; timersAfter: number };
  /** The most frequent ways server sessions ended, with counts. */
  serverEndings: Record<string, number>;
  findings: FuzzFinding[];
}

const MiB = 1024 * 1024;

function timerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round((process.memoryUsage().heapUsed / MiB) * 10) / 10;
}

/** The attacker's algorithms for a case: a cheap key exchange, a cipher drawn per case. */
function attackerConfig(random: FuzzRandom): SessionConfig {
  const config = SessionConfig.default();
  config.keyExchangeAlgorithms = [Algorithms.kex.curve25519Sha256];
  config.encryptionAlgorithms = [random.pick([Algorithms.encryption.aes256Gcm, Algorithms.encryption.chacha20Poly1305, Algorithms.encryption.aes128Ctr])];
  config.hmacAlgorithms = [random.pick([Algorithms.hmac.hmacSha256Etm, Algorithms.hmac.hmacSha512])];
  config.compressionAlgorithms = [Algorithms.compression.none];
  config.keyRotationThreshold = 2 ** 40;
  return config;
}

/** A well-behaved client with an echoing channel, checked by a round trip. */
class HealthSession {
  readonly client: ClientSession;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #counter = 0;

  constructor(client: ClientSession, writer: WritableStreamDefaultWriter<Uint8Array>, reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.client = client;
    this.#writer = writer;
    this.#reader = reader;
  }

  static async open(server: FuzzServer): Promise<HealthSession> {
    const [a, b] = duplexPair();
    server.start(b);
    const client = new ClientSession(SessionConfig.default());
    client.onAuthenticating = (e) => e.publicKey.equals(server.hostKey);
    await client.connect(a);
    if (!(await client.authenticate({ username: 'user', password: 'secret' }))) throw new Error('Health session: authentication refused');
    const channel = await client.openChannel();
    if (!(await channel.exec('echo'))) throw new Error('Health session: exec refused');
    return new HealthSession(client, channel.writable.getWriter(), channel.readable.getReader());
  }

  /** Sends a numbered line and reads it back, then a global request that must succeed. */
  async check(): Promise<void> {
    const line = new TextEncoder().encode(`health ${++this.#counter}\n`);
    await this.#writer.write(line);
    let got = '';
    while (got.length < line.length) {
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`Health channel ended after ${got.length} bytes`);
      got += new TextDecoder().decode(value);
    }
    if (got !== new TextDecoder().decode(line)) throw new Error(`Health channel echoed ${JSON.stringify(got)}`);
    if (!(await this.client.request({ requestType: HEALTH_REQUEST, wantReply: true }))) throw new Error('Health request refused');
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.client.close();
  }
}

/**
 * Runs a campaign.
 * @returns the report; `findings` is empty when the server held up
 */
export async function runFuzzCampaign(options: FuzzOptions): Promise<FuzzReport> {
  const deadlineMs = options.deadlineMs ?? 10_000;
  const freshEvery = options.freshSessionEvery ?? 100;
  const log = options.log ?? (() => {});
  const from = options.from ?? 0;
  const findings: FuzzFinding[] = [];
  const escaped: string[] = [];
  const onEscape = (error: unknown): void => void escaped.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  const started = performance.now();
  const timersBefore = timerCount();
  const heapStart = heapMiB();
  const server = new FuzzServer(options.hostKey);
  const report: FuzzReport = {
    seed: options.seed,
    iterations: 0,
    sessionCases: 0,
    keyExchangeCases: 0,
    messagesSent: 0,
    mutatedMessagesSent: 0,
    mutatedMessagesGenerated: 0,
    healthChecks: 0,
    seconds: 0,
    memory: { heapUsedStartMiB: heapStart, heapUsedEndMiB: 0, rssEndMiB: 0 },
    leaks: { openSessions: 0, openChannels: 0, timersBefore, timersAfter: 0 },
    serverEndings: {},
    findings,
  };
  try {
    const recorded: RecordedExchange = await recordExchange(server);
    let health = await HealthSession.open(server);
    const baselineChannels = server.openChannels.size;
    for (let iteration = from; iteration < from + options.iterations; iteration++) {
      const random = new FuzzRandom(options.seed, iteration);
      const keyExchange = random.chance(0.1);
      const escapedBefore = escaped.length;
      let mutations: string[];
      if (keyExchange) {
        const sequence = mutateSequence(random, recorded.keyExchange, 3);
        let versionLine = recorded.versionLine;
        if (random.chance(0.2)) {
          versionLine = versionLine.slice();
          versionLine[random.below(versionLine.length)] = random.below(256);
          sequence.description.push('version line: one byte replaced');
        }
        mutations = sequence.description;
        report.mutatedMessagesGenerated += sequence.mutated.filter(Boolean).length;
        const outcome = await runKeyExchangeCase(server, versionLine, sequence, deadlineMs);
        report.keyExchangeCases++;
        report.messagesSent += outcome.sent;
        report.mutatedMessagesSent += outcome.mutatedSent;
        for (const problem of outcome.problems) findings.push({ iteration, kind: 'key exchange', problem, mutations });
      } else {
        const sequence = mutateSequence(random, recorded.session, 8);
        mutations = sequence.description;
        report.mutatedMessagesGenerated += sequence.mutated.filter(Boolean).length;
        const outcome = await runSessionCase(server, sequence, attackerConfig(random), deadlineMs);
        report.sessionCases++;
        report.messagesSent += outcome.sent;
        report.mutatedMessagesSent += outcome.mutatedSent;
        for (const problem of outcome.problems) findings.push({ iteration, kind: 'session', problem, mutations });
      }
      // Channels of the case's session must be gone once it ended.
      await new Promise((resolve) => setImmediate(resolve));
      if (server.openChannels.size > baselineChannels) {
        findings.push({ iteration, kind: 'leak', problem: `${server.openChannels.size - baselineChannels} channels still open after the session ended`, mutations });
      }
      for (const error of server.foreignErrors.splice(0)) {
        findings.push({ iteration, kind: 'session', problem: `session ended by a non-SshError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, mutations });
      }
      for (const stack of escaped.slice(escapedBefore)) findings.push({ iteration, kind: 'process', problem: `escaped: ${stack}`, mutations });
      const healthy = health.check().then(
        () => undefined,
        (error: unknown) => String(error),
      );
      const healthProblem = (await within(healthy, deadlineMs)) ? await healthy : 'health check timed out';
      report.healthChecks++;
      if (healthProblem !== undefined) {
        findings.push({ iteration, kind: 'health', problem: `long-lived session: ${healthProblem}`, mutations });
        await health.close().catch(() => {});
        health = await HealthSession.open(server);
      }
      if ((iteration + 1) % freshEvery === 0) {
        const fresh = HealthSession.open(server).then(async (session) => {
          await session.check();
          await session.close();
        });
        const ok = fresh.then(
          () => undefined,
          (error: unknown) => String(error),
        );
        const problem = (await within(ok, deadlineMs)) ? await ok : 'fresh session timed out';
        report.healthChecks++;
        if (problem !== undefined) findings.push({ iteration, kind: 'health', problem: `fresh session: ${problem}`, mutations });
      }
      report.iterations++;
      if (report.mutatedMessagesSent >= (options.targetMutatedMessages ?? Infinity)) break;
      if (performance.now() - started > (options.maxMinutes ?? Infinity) * 60_000) break;
      if ((iteration + 1) % 500 === 0) {
        const seconds = (performance.now() - started) / 1000;
        log(
          `iteration ${iteration + 1}: ${report.mutatedMessagesSent} mutated messages sent (${Math.round(report.mutatedMessagesSent / seconds)}/s), ` +
            `${findings.length} findings, heap ${heapMiB()} MiB`,
        );
      }
    }
    await health.close();
  } finally {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  }
  await within(Promise.all([...server.openSessions].map((s) => s.closed.catch(() => {}))), deadlineMs);
  await new Promise((resolve) => setTimeout(resolve, 50));
  report.leaks = { openSessions: server.openSessions.size, openChannels: server.openChannels.size, timersBefore, timersAfter: timerCount() };
  if (report.leaks.openSessions > 0) findings.push({ iteration: -1, kind: 'leak', problem: `${report.leaks.openSessions} server sessions never ended`, mutations: [] });
  if (report.leaks.openChannels > 0) findings.push({ iteration: -1, kind: 'leak', problem: `${report.leaks.openChannels} channels never closed`, mutations: [] });
  if (report.leaks.timersAfter > timersBefore) findings.push({ iteration: -1, kind: 'leak', problem: `${report.leaks.timersAfter - timersBefore} timers left running`, mutations: [] });
  report.serverEndings = Object.fromEntries([...server.endings].sort((a, b) => b[1] - a[1]).slice(0, 25));
  report.seconds = Math.round((performance.now() - started) / 100) / 10;
  report.memory.heapUsedEndMiB = heapMiB();
  report.memory.rssEndMiB = Math.round(process.memoryUsage().rss / MiB);
  return report;
}
