/**
 * A WHATWG WebSocket as the `{ readable, writable }` byte pair sessions run over: the browser's,
 * Node 22+'s, Bun's and Deno's global WebSocket, or the `ws` package's. Every SSH byte travels in
 * binary frames; frame boundaries mean nothing (the packet stage reframes). A WebSocket cannot
 * pause its sender, so received frames queue until read (the peer's SSH window bounds them);
 * writes wait for the socket to open and for `bufferedAmount` to fall, which is the only
 * backpressure signal the API offers (it has no drain event, so it is polled).
 */
import { SshError } from '../errors.js';
import type { Duplex } from '../transport/transport.js';

/** The part of a WHATWG WebSocket the adapter uses; `ws`'s WebSocket fits it too. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: any) => void): void;
  removeEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: any) => void): void;
}

/** Tuning of `webSocketToDuplex`. */
export interface WebSocketDuplexOptions {
  /** A write waits while more than this many bytes are buffered by the socket (default 1 MiB). */
  highWaterMark?: number;
  /** ...until no more than this many remain (default a quarter of `highWaterMark`). */
  lowWaterMark?: number;
}

/** WebSocket readyState values (WHATWG WebSockets §3). */
const CONNECTING = 0;
const OPEN = 1;

/** RFC 6455 §7.4.1: 1000 normal closure; 1005 means the peer gave no code. */
const NORMAL_CLOSURE = 1000;
const NO_STATUS = 1005;
const UNSUPPORTED_DATA = 1003;

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/** How long an 'error' event waits for the 'close' event that should follow it. */
const ERROR_CLOSE_WAIT_MS = 1000;

/** How often a write blocked on `bufferedAmount` looks again. */
const DRAIN_POLL_MS = 2;

interface CloseEventLike {
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

function closeError(event: CloseEventLike, opened: boolean): SshError {
  const reason = event.reason ? ` (${event.reason})` : '';
  return new SshError(`WebSocket ${opened ? 'closed' : 'closed before it opened'}: code ${event.code ?? 'unknown'}${reason}`);
}

function asBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // `ws` may hand fragmented messages over as a list of buffers.
  if (Array.isArray(data) && data.every((part) => ArrayBuffer.isView(part))) {
    const parts = data as ArrayBufferView[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
    return out;
  }
  return undefined;
}

/**
 * Adapts a WHATWG WebSocket (connecting or open) to the byte pair a session connects over.
 * Binary frames both ways (`binaryType` becomes 'arraybuffer'); a text frame is a protocol
 * violation that errors the readable. A close with code 1000 or 1005 ends the readable, any other
 * close or an 'error' event errors both streams with an SshError naming the code. Writes wait
 * while the socket is connecting and while `bufferedAmount` is above the high-water mark.
 * `writable.close()` (and `abort()`, and cancelling the readable) closes the socket: a WebSocket
 * has no half-close.
 * @param ws the socket, in state CONNECTING or OPEN
 * @param options buffering limits of the write side
 * @returns the `{ readable, writable }` pair
 * @throws SshError when the socket is already closing or closed
 * @example
 * const client = new ClientSession(SessionConfig.default());
 * await client.connect(webSocketToDuplex(new WebSocket('wss://example.com/ssh')));
 */
export function webSocketToDuplex(ws: WebSocketLike, options: WebSocketDuplexOptions = {}): Duplex {
  if (ws.readyState !== CONNECTING && ws.readyState !== OPEN) {
    throw new SshError(`WebSocket is not usable: readyState ${ws.readyState} (closing or closed)`);
  }
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const lowWaterMark = options.lowWaterMark ?? Math.floor(highWaterMark / 4);
  ws.binaryType = 'arraybuffer';

  let opened = ws.readyState === OPEN;
  let failure: SshError | undefined;
  let ended = false;
  const waiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>();
  let readController!: ReadableStreamDefaultController<Uint8Array>;

  const settleWaiters = (): void => {
    for (const waiter of waiters) {
      if (failure) waiter.reject(failure);
      else if (opened) waiter.resolve();
    }
    if (failure || opened) waiters.clear();
  };
  const fail = (error: SshError): void => {
    failure ??= error;
    try {
      readController.error(failure);
    } catch {
      // The readable already ended or was cancelled.
    }
    settleWaiters();
  };
  const finish = (): void => {
    ended = true;
    failure ??= new SshError('WebSocket is closed');
    settleWaiters();
  };

  const onOpen = (): void => {
    opened = true;
    settleWaiters();
  };
  const onMessage = (event: { data: unknown }): void => {
    const bytes = asBytes(event.data);
    if (!bytes) {
      fail(new SshError(`WebSocket sent a ${typeof event.data} frame; SSH over WebSocket uses binary frames only`));
      closeUnsupported();
      return;
    }
    try {
      readController.enqueue(bytes);
    } catch {
      // Cancelled by the reader: drop what still arrives.
    }
  };
  /**
   * RFC 6455 §7.4.1: 1003 says "unsupported data". The WHATWG API lets scripts send only 1000
   * and 3000-4999 (anything else throws InvalidAccessError), so its sockets close with 1000 and
   * the reason; `ws` accepts 1003.
   */
  const closeUnsupported = (): void => {
    try {
      ws.close(UNSUPPORTED_DATA, 'binary frames only');
    } catch {
      ws.close(NORMAL_CLOSURE, 'binary frames only');
    }
  };
  // WHATWG WebSockets §"fail the WebSocket connection": an 'error' event is followed by a 'close'
  // event, which carries the code (1006 for a dropped connection), so the error waits for it;
  // only a socket that never sends 'close' ends with the bare error.
  let errorTimer: ReturnType<typeof setTimeout> | undefined;
  const onError = (): void => {
    errorTimer ??= setTimeout(() => fail(new SshError(opened ? 'WebSocket failed' : 'WebSocket failed to connect')), ERROR_CLOSE_WAIT_MS);
  };
  const onClose = (event: CloseEventLike): void => {
    if (errorTimer !== undefined) clearTimeout(errorTimer);
    if (errorTimer === undefined && (event.code === NORMAL_CLOSURE || event.code === NO_STATUS)) {
      try {
        readController.close();
      } catch {
        // Already errored, closed or cancelled.
      }
      finish();
    } else {
      fail(closeError(event, opened));
    }
    ws.removeEventListener('open', onOpen);
    ws.removeEventListener('message', onMessage);
    ws.removeEventListener('error', onError);
    ws.removeEventListener('close', onClose);
  };
  ws.addEventListener('open', onOpen);
  ws.addEventListener('message', onMessage);
  ws.addEventListener('error', onError);
  ws.addEventListener('close', onClose);

  const whenOpen = (): Promise<void> | undefined => {
    if (failure) return Promise.reject(failure);
    if (opened) return undefined;
    return new Promise((resolve, reject) => waiters.add({ resolve, reject }));
  };
  const whenDrained = (): Promise<void> | undefined => {
    if (ws.bufferedAmount <= highWaterMark) return undefined;
    return new Promise((resolve, reject) => {
      const look = (): void => {
        if (failure) reject(failure);
        else if (ws.bufferedAmount <= lowWaterMark) resolve();
        else setTimeout(look, DRAIN_POLL_MS);
      };
      setTimeout(look, DRAIN_POLL_MS);
    });
  };
  const closeSocket = (): void => {
    if (ws.readyState === CONNECTING || ws.readyState === OPEN) ws.close(NORMAL_CLOSURE);
  };

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      readController = controller;
    },
    cancel() {
      closeSocket();
    },
  });

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      await whenOpen();
      if (failure || ended || ws.readyState !== OPEN) throw failure ?? new SshError(`WebSocket is not open: readyState ${ws.readyState}`);
      // Views over shared memory never reach here: the library writes ordinary buffers.
      ws.send(chunk as Uint8Array<ArrayBuffer>);
      await whenDrained();
    },
    async close() {
      // Frames already handed to send() go out before the close frame (RFC 6455 §5.5.1).
      await whenOpen()?.catch(() => undefined);
      closeSocket();
    },
    abort() {
      closeSocket();
    },
  });
  return { readable, writable };
}
