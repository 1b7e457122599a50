/**
 * Where `serveExec` gets its processes from: node:child_process, loaded with a dynamic import on
 * first use. The Node platform file installs the loader; a browser build has none, so serveExec
 * fails there with a clear SshError when called, and nothing imports node:child_process at load.
 */
import type * as ChildProcessModule from 'node:child_process';
import { SshError } from '../errors.js';

/** Loads node:child_process (or a runtime's compatible module). */
export type ChildProcessLoader = () => Promise<typeof ChildProcessModule>;

let loader: ChildProcessLoader | undefined;
let loaded: Promise<typeof ChildProcessModule> | undefined;

/**
 * Installs the process backend of `serveExec`; called once by the Node platform file.
 * @param load a function importing node:child_process
 */
export function installChildProcess(load: ChildProcessLoader): void {
  loader = load;
  loaded = undefined;
}

/**
 * Throws unless a process backend is installed, so serveExec fails when called, not later.
 * @param what the caller, for the message
 * @throws SshError in runtimes without child processes (the browser build)
 */
export function requireChildProcess(what: string): void {
  if (!loader) {
    throw new SshError(`${what} runs commands with node:child_process, which this runtime does not have (browser build)`);
  }
}

/**
 * node:child_process, imported on first use.
 * @throws SshError in runtimes without child processes
 */
export function childProcess(): Promise<typeof ChildProcessModule> {
  requireChildProcess('serveExec');
  loaded ??= loader!();
  return loaded;
}
