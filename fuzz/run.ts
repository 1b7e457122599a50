/**
 * `npm run fuzz`: mutates a recorded exchange through a live server (see campaign.ts). Options:
 * --iterations=<n> (default 2000), --seed=<n> (default: random, printed), --from=<n> (first
 * iteration, to replay a reported one with --iterations=1), --deadline=<ms> (default 10000),
 * --messages=<n> (stop once n mutated messages were sent), --minutes=<n> (stop after n minutes),
 * --json=<path> (write the report). Exits 1 when anything was found.
 */
import '../lib/platform/node.js';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateKeyPair } from '../lib/keys/key-pair.js';
import { runFuzzCampaign } from './campaign.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    from: { type: 'string', default: '0' },
    deadline: { type: 'string', default: '10000' },
    json: { type: 'string' },
    messages: { type: 'string' },
    minutes: { type: 'string' },
  },
});
const seed = values.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(values.seed);
console.error(`fuzz: seed ${seed}, ${values.iterations} iterations from ${values.from}`);
const report = await runFuzzCampaign({
  seed,
  iterations: Number(values.iterations),
  from: Number(values.from),
  deadlineMs: Number(values.deadline),
  ...(values.messages === undefined ? {} : { targetMutatedMessages: Number(values.messages) }),
  ...(values.minutes === undefined ? {} : { maxMinutes: Number(values.minutes) }),
  hostKey: await generateKeyPair('ssh-ed25519'),
  log: (line) => console.error(line),
});
for (const finding of report.findings) {
  console.error(`\nFINDING (${finding.kind}) at iteration ${finding.iteration}: ${finding.problem}`);
  for (const m of finding.mutations) console.error(`  ${m}`);
  if (finding.iteration >= 0) console.error(`  replay: npm run fuzz -- --seed=${seed} --from=${finding.iteration} --iterations=1`);
}
const { findings, ...figures } = report;
console.log(JSON.stringify({ ...figures, findings: findings.length, messagesPerSecond: Math.round(report.mutatedMessagesSent / report.seconds) }, null, 2));
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
process.exitCode = findings.length > 0 ? 1 : 0;
