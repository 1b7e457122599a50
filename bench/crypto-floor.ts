/**
 * `node dist/bench/crypto-floor.js`: what the packet ciphers alone cost per 64 KiB CHANNEL_DATA
 * packet, sealing and opening with this library's cipher strategies (node:crypto underneath), on
 * reused buffers so that neither allocation of the input nor GC of old packets is counted. The
 * sum of one seal and one open is the CPU every byte needs when both ends run in one process,
 * which bounds the single-channel throughput `npm run bench` can show whatever the rest costs.
 * `--suite=web` (FLOOR_SUITE=web) measures the portable `@noble` suite the browser build uses
 * instead, as the reference for browser figures.
 */
import { randomBytes } from 'node:crypto';
import type { CipherAlgorithm, MacAlgorithm } from '../lib/cipher/types.js';
import { nodeCipherSuite } from '../lib/cipher/suites/node.js';
import { webCipherSuite } from '../lib/cipher/suites/web.js';

const suiteFlag = process.argv.find((a) => a.startsWith('--suite='))?.slice('--suite='.length) ?? process.env.FLOOR_SUITE ?? 'node';
if (suiteFlag !== 'node' && suiteFlag !== 'web') throw new Error(`Unknown suite ${suiteFlag}; use node or web`);
const suite = suiteFlag === 'web' ? webCipherSuite : nodeCipherSuite;
const packetLength = 64 * 1024;
const packets = Number(process.env.FLOOR_PACKETS ?? (suiteFlag === 'web' ? 500 : 4000));

function writeLength(packet: Uint8Array): void {
  packet[0] = packetLength >>> 24;
  packet[1] = packetLength >>> 16;
  packet[2] = packetLength >>> 8;
  packet[3] = packetLength;
  packet[4] = 8;
}

/**
 * Microseconds per packet to seal and to open `packets` packets of `packetLength` bytes, and the
 * process CPU time of the whole loop (which a loaded machine disturbs less than the wall clock).
 */
function measure(algorithm: CipherAlgorithm, mac: MacAlgorithm | undefined): { seal: number; open: number; cpuSeconds: number } {
  const keys = { iv: randomBytes(16), encryptionKey: randomBytes(algorithm.keyLength), integrityKey: randomBytes(64) };
  const sealing = algorithm.sealing(keys, mac);
  const opening = algorithm.opening(keys, mac);
  const plain = randomBytes(4 + packetLength + sealing.tagLength);
  // Sealing works in place; a small ring of buffers keeps the sealed packets for the open pass.
  const ring = Array.from({ length: 8 }, () => new Uint8Array(plain.length));
  let sealMicros = 0;
  let openMicros = 0;
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < packets; i++) {
    const packet = ring[i % ring.length]!;
    packet.set(plain);
    writeLength(packet);
    let t = performance.now();
    const wire = sealing.seal(i, packet);
    sealMicros += (performance.now() - t) * 1000;
    t = performance.now();
    opening.decryptLength(i, wire.subarray(0, opening.lengthPrefixBytes));
    opening.open(i, wire);
    openMicros += (performance.now() - t) * 1000;
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { seal: sealMicros / packets, open: openMicros / packets, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const rows = [
  { cipher: 'aes256-gcm@openssh.com', mac: undefined },
  { cipher: 'chacha20-poly1305@openssh.com', mac: undefined },
  { cipher: 'aes256-ctr', mac: 'hmac-sha2-256-etm@openssh.com' },
];
console.log(`Cipher suite ${suite.name}, ${packets} packets each`);
for (const row of rows) {
  const algorithm = suite.ciphers.find((c) => c.name === row.cipher)!;
  const mac = suite.macs.find((m) => m.name === row.mac);
  measure(algorithm, mac); // warm-up: JIT and the first allocations
  const { seal, open, cpuSeconds } = measure(algorithm, mac);
  const perMiB = ((seal + open) * 16) / 1000;
  console.log(
    `${algorithm.name}${mac ? ` + ${mac.name}` : ''}: seal ${seal.toFixed(1)} µs + open ${open.toFixed(1)} µs per 64 KiB packet = ` +
      `${perMiB.toFixed(2)} ms of CPU per MiB, so at most ${(1.048576 / perMiB * 1000).toFixed(0)} MB/s on one thread with nothing else to do ` +
      `(process CPU time: ${((packets * packetLength) / 1e6 / cpuSeconds).toFixed(0)} MB/s sealed and opened)`,
  );
}
