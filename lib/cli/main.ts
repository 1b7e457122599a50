#!/usr/bin/env node
/**
 * The `ssh-streams` command line (package.json "bin"): `serve` runs an SSH server, `connect` an
 * interactive client. Built on the package's public entry points only, as any program using the
 * package would be; arguments are parsed by node:util parseArgs.
 */
import { connect, CONNECT_USAGE } from './connect.js';
import { serve, SERVE_USAGE } from './serve.js';

const USAGE = `Usage: ssh-streams <command> [options]

Commands:
  serve     run an SSH server as the current user (ssh-streams serve --help)
  connect   log in to an SSH server, run a shell or a command, forward ports (ssh-streams connect --help)

${SERVE_USAGE}

${CONNECT_USAGE}`;

/** Usage errors exit with 2, as parseArgs' own callers usually do; other failures with 255, as ssh(1). */
async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'connect':
      return connect(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`ssh-streams: unknown command ${JSON.stringify(command)}; expected serve or connect (ssh-streams --help)\n`);
      return 2;
  }
}

/** Exits once what was written to stdout and stderr has been handed to the system. */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exit, (error: unknown) => {
  const usage = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
  process.stderr.write(`ssh-streams: ${(error as Error).message ?? String(error)}${usage ? ' (see --help)' : ''}\n`);
  exit(usage ? 2 : 255);
});
