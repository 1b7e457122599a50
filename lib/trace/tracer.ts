/**
 * A session's diagnostics (`config.trace`, `session.onTrace`): filters events by the configured
 * level and hands them to the session's handler. Layers hold a Tracer only when tracing is on,
 * so with tracing off each message costs one `undefined` check and no event is ever built.
 * Owns neither what is traced (each layer decides) nor how messages are described
 * (message-trace.ts).
 */
import { SshError } from '../errors.js';
import { MessageDescriber, messageName, type Direction } from './message-trace.js';
import { traceLevelNumber, traceLevels, type TraceCategory, type TraceEvent, type TraceLevel, type TraceSetting, type TraceValue } from './trace-event.js';

const VERBOSE = 3;

/** Filters and delivers one session's trace events. */
export class Tracer {
  /** 1 info, 2 debug, 3 verbose. */
  readonly level: number;
  readonly #sink: (event: TraceEvent) => void;
  readonly #describer: MessageDescriber;

  /**
   * @param setting the configured level (not `off`: then no Tracer is made, see `createTracer`)
   * @param sink receives every event at or below the level; an exception it throws is dropped
   */
  constructor(setting: TraceLevel, sink: (event: TraceEvent) => void) {
    this.level = traceLevelNumber(setting);
    this.#sink = sink;
    this.#describer = new MessageDescriber(this, this.level);
  }

  /** True when events of `level` are delivered: guard any costly event with it. */
  enabled(level: TraceLevel): boolean {
    return traceLevelNumber(level) <= this.level;
  }

  /** Delivers one event when `level` is enabled. */
  emit(level: TraceLevel, category: TraceCategory, message: string, fields?: Record<string, TraceValue>): void {
    if (traceLevelNumber(level) > this.level) return;
    try {
      this.#sink({ ...fields, level, category, message });
    } catch {
      // A failing diagnostics handler must not break the session.
    }
  }

  /** A message from the peer (after the transport's own framing), as the read loop sees it. */
  inbound(payload: Uint8Array): void {
    this.#message('in', payload);
  }

  /** A message to the peer, before it is sealed. */
  outbound(payload: Uint8Array): void {
    this.#message('out', payload);
  }

  #message(direction: Direction, payload: Uint8Array): void {
    const type = payload[0]!;
    if (this.level >= VERBOSE) {
      const name = messageName(type, this.#describer.authMethod);
      const verb = direction === 'in' ? 'Received' : 'Sent';
      this.emit('verbose', 'message', `${verb} ${name} (${type}), ${payload.length} bytes`, {
        direction,
        messageType: type,
        messageName: name,
        length: payload.length,
      });
    }
    this.#describer.describe(direction, payload);
  }
}

/**
 * The Tracer for `setting`, or undefined when it is `off` (or unset).
 * @throws SshError for a setting that is not a level
 */
export function createTracer(setting: TraceSetting | undefined, sink: (event: TraceEvent) => void): Tracer | undefined {
  if (setting === undefined || setting === 'off') return undefined;
  if (!traceLevels.includes(setting)) throw new SshError(`Unknown trace level ${String(setting)}; use off, ${traceLevels.join(', ')}`);
  return new Tracer(setting, sink);
}
