/**
 * Pumps bytes between a node:net socket and a forwarding channel, both ways (RFC 4254 §7 channels
 * carry a plain TCP stream). Half-close crosses over in both directions (socket FIN = CHANNEL_EOF,
 * CHANNEL_EOF = FIN); errors reset: a socket error closes the channel with an exit-signal, and a
 * channel that ends badly (session lost, exit-signal from the peer) resets the socket.
 * Uses socket events and a channel reader/writer rather than `pipeTo`, because `Duplex.toWeb`
 * ends a socket's readable only when the whole socket closes, which would lose the half-close.
 */
import type { Socket } from 'node:net';
import type { Channel, ChannelCloseInfo } from '../mux/channel.js';
import { TurnCorkedWriter } from '../platform/turn-corked-writer.js';

const noop = (): void => {};

/** The signal sent on the channel when the local socket fails, as the reference library does. */
export const socketErrorSignal = 'ABRT';

/**
 * Closes a socket with a TCP reset (RST) rather than a FIN, so the far end sees ECONNRESET.
 * @param socket the socket to reset; nothing happens when it is already destroyed
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/**
 * Connects `socket` and `channel` until both directions are done; then the channel closes and the
 * socket is released. Resolves when the socket has closed. Never rejects.
 * @param socket a connected socket created with `allowHalfOpen: true` (it may be paused)
 * @param channel the forwarding channel (it may still be waiting for its open confirmation)
 * @returns a promise settled once the socket is closed
 */
export function pumpSocket(socket: Socket, channel: Channel): Promise<void> {
  const writer = channel.writable.getWriter();
  let eofSent: Promise<void> | undefined;
  let socketEnded = false;
  let channelClosed = false;

  const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

  socket.on('data', (chunk: Buffer) => {
    writer.write(chunk).catch(noop);
    if ((writer.desiredSize ?? 1) <= 0) {
      socket.pause();
      writer.ready.then(() => socket.resume(), noop);
    }
  });
  // RFC 4254 §5.3: the local end finished sending, so the peer gets EOF once the data is out.
  socket.once('end', () => {
    eofSent = writer.close().catch(noop);
    void eofSent.then(finishIfDone);
  });
  socket.on('error', (error: Error) => {
    void channel.close({ exitSignal: socketErrorSignal, errorMessage: error.message });
  });
  socket.once('close', () => {
    // Unsent data reaches the peer before CLOSE when the socket ended cleanly; otherwise abort.
    if (eofSent === undefined) void channel.close();
    else void eofSent.then(() => channel.close());
  });

  void channel.closed.then((info) => {
    channelClosed = true;
    if (isAbnormal(info)) return resetSocket(socket);
    releaseWhenFlushed();
  });
  socket.resume();
  void copyToSocket();

  function finishIfDone(): void {
    if (eofSent !== undefined && socketEnded) void channel.close();
  }

  /** After the channel closed cleanly: the socket goes once our FIN and queued data are out. */
  function releaseWhenFlushed(): void {
    if (!socketEnded || socket.destroyed) return;
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  }

  async function copyToSocket(): Promise<void> {
    const reader = channel.readable.getReader();
    // The packets that arrived together (two per 64 KiB read from OpenSSH) leave in one writev.
    const writes = new TurnCorkedWriter(socket);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (socket.destroyed) {
          await reader.cancel().catch(noop);
          return;
        }
        if (!writes.write(value)) await drained(socket);
      }
    } catch {
      return resetSocket(socket);
    }
    // RFC 4254 §5.3: the peer's EOF (or plain CLOSE) becomes our FIN after everything it sent. A
    // CLOSE is already known here; a FIN would then make the reset of a failed channel impossible.
    if (channel.isClosed && isAbnormal(await channel.closed)) return resetSocket(socket);
    if (socket.destroyed) return;
    socket.end();
    socketEnded = true;
    if (channelClosed) releaseWhenFlushed();
    else finishIfDone();
  }

  return socketClosed;
}

/** The channel ended by a session failure or with a signal (the peer's socket failed). */
function isAbnormal(info: ChannelCloseInfo): boolean {
  return info.closedBy === 'session' || info.exitSignal !== undefined;
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
