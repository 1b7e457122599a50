/**
 * Questions to the user of `ssh-streams connect` on the controlling terminal (/dev/tty), as ssh(1)
 * asks them: passwords and passphrases without echo, yes/no for an unknown host key. The terminal
 * is read in raw mode one key at a time (Enter ends, Backspace erases, Ctrl-U clears, Ctrl-C and
 * Ctrl-D on an empty line cancel), so it works even when stdin is a pipe.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { SshError } from '../index.node.js';

/** Options of {@link askTerminal}. */
export interface AskOptions {
  /** Show what is typed (a yes/no answer) or not (a password); default false. */
  echo?: boolean;
}

/**
 * Asks one question on /dev/tty.
 * @param question shown before the answer, e.g. `alice@host's password: `
 * @returns the answer without its line end
 * @throws SshError when there is no terminal or the user cancels (Ctrl-C, Ctrl-D)
 */
export async function askTerminal(question: string, options: AskOptions = {}): Promise<string> {
  let readFd: number;
  let writeFd: number;
  try {
    readFd = openSync('/dev/tty', 'r');
    writeFd = openSync('/dev/tty', 'w');
  } catch (error) {
    throw new SshError(`No terminal to ask ${JSON.stringify(question.trim())} on`, { cause: error });
  }
  const input = new ReadStream(readFd);
  const output = { write: (text: string): void => void writeSync(writeFd, text) };
  input.setRawMode(true);
  output.write(question);
  try {
    return await new Promise<string>((resolve, reject) => {
      let answer = '';
      input.on('data', (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') {
            output.write('\r\n');
            resolve(answer);
            return;
          }
          if (char === '\x03' || (char === '\x04' && answer === '')) {
            output.write('\r\n');
            reject(new SshError('Cancelled'));
            return;
          }
          if (char === '\x7f' || char === '\b') {
            if (answer !== '' && options.echo) output.write('\b \b');
            answer = [...answer].slice(0, -1).join('');
          } else if (char === '\x15') {
            if (options.echo) output.write('\b \b'.repeat([...answer].length));
            answer = '';
          } else if (char >= ' ') {
            answer += char;
            if (options.echo) output.write(char);
          }
        }
      });
      input.once('error', (error) => reject(new SshError(`Cannot read the terminal: ${error.message}`, { cause: error })));
    });
  } finally {
    input.setRawMode(false);
    input.destroy();
    closeSync(writeFd);
  }
}
