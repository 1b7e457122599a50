/**
 * The `ssh-streams/terminal` entry for browsers: attaching a local terminal needs a tty (node:tty
 * raw mode, process signals), which a page does not have. The same names are exported so that code
 * shared with Node imports cleanly; calling `attachTerminal` throws an SshError that points at
 * wiring a terminal emulator (such as xterm.js) to the channel's streams instead.
 */
import { SshError } from '../errors.js';
export type { AttachTerminalOptions, TerminalInput, TerminalOutput } from './attach-terminal.js';

/**
 * Browser stand-in of the Node `attachTerminal`.
 * @throws SshError always: a page has no local tty
 */
export function attachTerminal(): never {
  throw new SshError(
    'attachTerminal needs a local tty (node:tty), which this runtime does not have (browser build): ' +
      'send requestPty and shell on the channel and connect its readable and writable to a terminal emulator instead',
  );
}
