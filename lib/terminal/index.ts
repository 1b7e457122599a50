/**
 * ssh-streams/terminal: the client side of interactive sessions on Node. `attachTerminal` joins
 * the local terminal (process.stdin/stdout) to a session channel as `ssh` does. Public re-exports only.
 */
import '../platform/node.js';
export { attachTerminal } from './attach-terminal.js';
export type { AttachTerminalOptions, TerminalInput, TerminalOutput } from './attach-terminal.js';
