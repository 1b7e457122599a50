/**
 * RFC 4254 §8 terminal modes as `stty` arguments. node-pty opens a pseudo-terminal with the
 * system's default modes and has no call to change them, so the server applies the client's modes
 * by running `stty` on the new terminal before the command replaces it (see pty.ts). Opcodes
 * without a setting here (BSD-only ones such as VDSUSP, VSTATUS and PENDIN) are ignored, as the RFC
 * allows.
 */
import type { TerminalModes } from '../codec/messages/session-requests.js';

/** RFC 4254 §8: control characters, by opcode. */
const CHARACTERS: Readonly<Record<number, string>> = {
  1: 'intr',
  2: 'quit',
  3: 'erase',
  4: 'kill',
  5: 'eof',
  6: 'eol',
  7: 'eol2',
  8: 'start',
  9: 'stop',
  10: 'susp',
  12: 'rprnt',
  13: 'werase',
  14: 'lnext',
  16: 'swtch',
  18: 'discard',
};

/** RFC 4254 §8 and RFC 8160 (IUTF8): flags, by opcode. */
const FLAGS: Readonly<Record<number, string>> = {
  30: 'ignpar',
  31: 'parmrk',
  32: 'inpck',
  33: 'istrip',
  34: 'inlcr',
  35: 'igncr',
  36: 'icrnl',
  37: 'iuclc',
  38: 'ixon',
  39: 'ixany',
  40: 'ixoff',
  41: 'imaxbel',
  42: 'iutf8',
  50: 'isig',
  51: 'icanon',
  52: 'xcase',
  53: 'echo',
  54: 'echoe',
  55: 'echok',
  56: 'echonl',
  57: 'noflsh',
  58: 'tostop',
  59: 'iexten',
  60: 'echoctl',
  61: 'echoke',
  70: 'opost',
  71: 'olcuc',
  72: 'onlcr',
  73: 'ocrnl',
  74: 'onocr',
  75: 'onlret',
  92: 'parenb',
  93: 'parodd',
};

/** RFC 4254 §8 CS7 / CS8: character sizes, set when true (there is no "-cs8"). */
const SIZES: Readonly<Record<number, string>> = { 90: 'cs7', 91: 'cs8' };

/** RFC 4254 §8 TTY_OP_ISPEED / TTY_OP_OSPEED. */
const SPEEDS: Readonly<Record<number, string>> = { 128: 'ispeed', 129: 'ospeed' };

/** POSIX baud rates `stty` accepts; other speeds are left at the terminal's default. */
const BAUD_RATES = new Set([
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
]);

/**
 * Turns terminal modes into `stty` arguments. Characters are written as hexadecimal numbers (a
 * single digit would be taken literally); 0 and 255 mean "disabled" (OpenSSH sends
 * _POSIX_VDISABLE as 255) and become `undef`. Every argument matches /^-?[a-z0-9]+$/, so the list
 * can be placed in a shell command line as it is.
 * @param modes opcode -> value, as decoded from pty-req
 * @returns arguments for `stty`, empty when no opcode is known
 * @example terminalModesToStty({ 1: 3, 53: 0 }) // ['intr', '0x03', '-echo']
 */
export function terminalModesToStty(modes: TerminalModes): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(modes)) {
    const opcode = Number(key);
    const character = CHARACTERS[opcode];
    const flag = FLAGS[opcode];
    const size = SIZES[opcode];
    const speed = SPEEDS[opcode];
    if (character !== undefined) {
      const disabled = value === 0 || value === 255 || value > 255;
      args.push(character, disabled ? 'undef' : `0x${value.toString(16).padStart(2, '0')}`);
    } else if (flag !== undefined) {
      args.push(value === 0 ? `-${flag}` : flag);
    } else if (size !== undefined) {
      if (value !== 0) args.push(size);
    } else if (speed !== undefined && BAUD_RATES.has(value)) {
      args.push(speed, String(value));
    }
  }
  return args;
}
