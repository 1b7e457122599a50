/**
 * Child process of one library of the one-process rows (`peer-child.js <peer>`, forked by
 * `childRunner`): its server and client live here alone, and each measurement the parent asks for
 * runs here, followed by a full collection. Only that library is imported.
 */
import { serveBenchChild } from './child-process.js';
import { peerLoaders } from './peers/all.js';
import { localRunner, type RunnerRequest } from './scenarios.js';

serveBenchChild<RunnerRequest>(async () => {
  const load = peerLoaders[process.argv[2]!];
  if (load === undefined) throw new Error(`Unknown peer ${process.argv[2]}`);
  const runner = await localRunner(await load());
  return {
    handle: (r) => {
      switch (r.kind) {
        case 'throughput':
          return runner.throughput(r.options);
        case 'setup':
          return runner.setup(r.options);
        case 'setupWithKex':
          return runner.setupWithKex(r.kex, r.options);
        case 'channels':
          return runner.channels(r.options);
      }
    },
    close: () => runner.close(),
  };
});
