/**
 * Payloads of the "session" channel requests (RFC 4254 §6): pty-req, x11-req, env, exec, subsystem,
 * window-change, xon-xoff, signal, exit-status, exit-signal; declared as data like messages, and
 * decoded into the typed fields a request event exposes. Only data: sending and dispatching
 * belong to lib/mux/channel.ts. Terminal modes follow RFC 4254 §8.
 */
import { ProtocolError } from '../../errors.js';
import { boolean, decodeFields, encodeFields, string, uint32, utf8, type Field, type MessageValue } from '../schema.js';
import { SshWriter, utf8Decode } from '../wire.js';

/** A `string` field holding text that is not required to be UTF-8 (commands, RFC 4254 §6.5). */
const text: Field<string> = { read: (r) => utf8Decode(r.string()), write: (w, v) => void w.string(v) };

/** RFC 4254 §6 request type names. */
export const SessionRequestType = {
  ptyReq: 'pty-req',
  x11Req: 'x11-req',
  env: 'env',
  shell: 'shell',
  exec: 'exec',
  subsystem: 'subsystem',
  windowChange: 'window-change',
  xonXoff: 'xon-xoff',
  signal: 'signal',
  exitStatus: 'exit-status',
  exitSignal: 'exit-signal',
  authAgentReq: 'auth-agent-req@openssh.com',
} as const;

/** RFC 4254 §6.2 */
export const PtyRequest = {
  term: utf8,
  columns: uint32,
  rows: uint32,
  widthPixels: uint32,
  heightPixels: uint32,
  modes: string,
};
/** RFC 4254 §6.3.1 */
export const X11Request = {
  singleConnection: boolean,
  x11AuthenticationProtocol: utf8,
  x11AuthenticationCookie: utf8,
  x11ScreenNumber: uint32,
};
/** RFC 4254 §6.4 */
export const EnvRequest = { name: utf8, value: text };
/** RFC 4254 §6.5 */
export const ExecRequest = { command: text };
/** RFC 4254 §6.5 */
export const SubsystemRequest = { subsystem: utf8 };
/** RFC 4254 §6.7 */
export const WindowChangeRequest = { columns: uint32, rows: uint32, widthPixels: uint32, heightPixels: uint32 };
/** RFC 4254 §6.8 */
export const XonXoffRequest = { clientCanDo: boolean };
/** RFC 4254 §6.9: the signal name without the "SIG" prefix. */
export const SignalRequest = { signal: utf8 };
/** RFC 4254 §6.10 */
export const ExitStatusRequest = { exitStatus: uint32 };
/** RFC 4254 §6.10 */
export const ExitSignalRequest = { exitSignal: utf8, coreDumped: boolean, errorMessage: utf8, languageTag: utf8 };

/** RFC 4254 §8 opcodes most programs set; any opcode 1-159 may be used numerically. */
export const TerminalMode = {
  VINTR: 1,
  VQUIT: 2,
  VERASE: 3,
  VKILL: 4,
  VEOF: 5,
  ISIG: 50,
  ICANON: 51,
  ECHO: 53,
  ECHOE: 54,
  ECHOK: 55,
  ECHONL: 56,
  OPOST: 70,
  ONLCR: 72,
  CS8: 91,
  TTY_OP_ISPEED: 128,
  TTY_OP_OSPEED: 129,
} as const;

/** Terminal modes as opcode -> value (RFC 4254 §8). */
export type TerminalModes = Record<number, number>;

/** A pseudo-terminal request (RFC 4254 §6.2) as the `requestPty` helper takes and events expose. */
export interface PtyOptions {
  term: string;
  columns: number;
  rows: number;
  widthPixels?: number;
  heightPixels?: number;
  modes?: TerminalModes;
}

/** A terminal size (RFC 4254 §6.7). */
export interface WindowSize {
  columns: number;
  rows: number;
  widthPixels?: number;
  heightPixels?: number;
}

/** RFC 4254 §8: encodes opcode/uint32 pairs ended by TTY_OP_END (0). */
export function encodeTerminalModes(modes: TerminalModes = {}): Uint8Array {
  const w = new SshWriter(64);
  for (const [opcode, value] of Object.entries(modes)) {
    const op = Number(opcode);
    if (!(op >= 1 && op <= 159)) throw new RangeError(`Terminal mode opcode ${opcode} is not in 1-159`);
    w.byte(op).uint32(value);
  }
  w.byte(0);
  return w.toBytes();
}

/** RFC 4254 §8: decodes modes; parsing stops at TTY_OP_END or at an opcode >= 160, as the RFC says. */
export function decodeTerminalModes(bytes: Uint8Array): TerminalModes {
  const modes: TerminalModes = {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length; ) {
    const op = bytes[at]!;
    if (op === 0 || op >= 160) break;
    if (at + 5 > bytes.length) throw new ProtocolError(`Terminal mode ${op} truncated at offset ${at}`);
    modes[op] = view.getUint32(at + 1);
    at += 5;
  }
  return modes;
}

/** RFC 4254 §6.2: pty-req data. */
export function encodePtyRequest(pty: PtyOptions): Uint8Array {
  return encodeFields(PtyRequest, {
    term: pty.term,
    columns: pty.columns,
    rows: pty.rows,
    widthPixels: pty.widthPixels ?? 0,
    heightPixels: pty.heightPixels ?? 0,
    modes: encodeTerminalModes(pty.modes),
  });
}

/** RFC 4254 §6.7: window-change data. */
export function encodeWindowChange(size: WindowSize): Uint8Array {
  return encodeFields(WindowChangeRequest, {
    columns: size.columns,
    rows: size.rows,
    widthPixels: size.widthPixels ?? 0,
    heightPixels: size.heightPixels ?? 0,
  });
}

/** Encodes request-specific data with one of the schemas above. */
export function encodeRequestData<F extends Record<string, Field<unknown>>>(fields: F, value: MessageValue<F>): Uint8Array {
  return encodeFields(fields, value);
}

/** The typed fields a request event exposes, by request type (absent for other types). */
export interface SessionRequestFields {
  /** exec */
  command?: string;
  /** subsystem */
  subsystem?: string;
  /** pty-req */
  pty?: Required<PtyOptions>;
  /** window-change */
  windowSize?: Required<WindowSize>;
  /** env */
  name?: string;
  /** env */
  value?: string;
  /** signal (without "SIG") */
  signal?: string;
  /** x11-req */
  x11?: MessageValue<typeof X11Request>;
  /** xon-xoff */
  clientCanDo?: boolean;
  /** exit-status */
  exitStatus?: number;
  /** exit-signal */
  exitSignal?: string;
  /** exit-signal */
  coreDumped?: boolean;
  /** exit-signal */
  errorMessage?: string;
}

/**
 * Decodes the request-specific data of a known RFC 4254 §6 request type; unknown types yield {}.
 * @throws ProtocolError when the data is malformed for its type
 */
export function decodeSessionRequest(requestType: string, data: Uint8Array): SessionRequestFields {
  const name = `ChannelRequest(${requestType})`;
  switch (requestType) {
    case SessionRequestType.exec:
      return decodeFields(name, ExecRequest, data);
    case SessionRequestType.subsystem:
      return decodeFields(name, SubsystemRequest, data);
    case SessionRequestType.env:
      return decodeFields(name, EnvRequest, data);
    case SessionRequestType.signal:
      return decodeFields(name, SignalRequest, data);
    case SessionRequestType.xonXoff:
      return decodeFields(name, XonXoffRequest, data);
    case SessionRequestType.exitStatus:
      return decodeFields(name, ExitStatusRequest, data);
    case SessionRequestType.exitSignal: {
      const v = decodeFields(name, ExitSignalRequest, data);
      return { exitSignal: v.exitSignal, coreDumped: v.coreDumped, errorMessage: v.errorMessage };
    }
    case SessionRequestType.windowChange:
      return { windowSize: decodeFields(name, WindowChangeRequest, data) };
    case SessionRequestType.x11Req:
      return { x11: decodeFields(name, X11Request, data) };
    case SessionRequestType.ptyReq: {
      const v = decodeFields(name, PtyRequest, data);
      return { pty: { ...v, modes: decodeTerminalModes(v.modes) } };
    }
    default:
      return {};
  }
}
