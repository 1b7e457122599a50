/**
 * node:net sockets as the `{ readable, writable }` byte pair sessions run over. Written by hand
 * rather than with `Duplex.toWeb`, which copies every received chunk and counts its write queue
 * in chunks (so it never pushes back): here received buffers are passed on as they are, the
 * readable pauses the socket when its byte queue is full, and writes wait for 'drain'. Nagle is
 * off (SSH packets are already coalesced); socket errors end the streams instead of escaping as
 * unhandled 'error' events.
 */
import type { Socket } from 'node:net';
import type { Duplex } from '../transport/transport.js';
import { TurnCorkedWriter } from '../platform/turn-corked-writer.js';

/** Bytes queued in the readable before the socket is paused. */
const READ_HIGH_WATER_MARK = 256 * 1024;

/** Adapts a connected socket to Web Streams. */
export function socketToDuplex(socket: Socket): Duplex {
  socket.setNoDelay(true);
  let failure: Error | undefined;
  socket.on('error', (error) => {
    failure = error;
  });

  // Set once the readable is closed, errored or cancelled: 'close' follows 'end' (and a cancel), and
  // closing a closed stream throws a TypeError whose stack costs more than the rest of the teardown.
  let readableDone = false;
  const endReadable = (controller: ReadableStreamDefaultController<Uint8Array>, error: Error | undefined): void => {
    if (readableDone) return;
    readableDone = true;
    try {
      if (error) controller.error(error);
      else controller.close();
    } catch {
      // Already closed or cancelled.
    }
  };
  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        socket.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) socket.pause();
        });
        socket.once('end', () => endReadable(controller, undefined));
        socket.once('close', () => endReadable(controller, failure));
        socket.pause();
      },
      pull() {
        socket.resume();
      },
      cancel() {
        readableDone = true;
        socket.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER_MARK }),
  );

  // Packets written in one turn of the event loop leave in one writev: a burst of small messages
  // (1000 channel opens, their confirmations) costs one system call instead of one per packet, and
  // bulk packets (two 32 KiB packets per 64 KiB written to OpenSSH) one per turn. Measured: upload
  // to sshd 2.2 -> 1.7 CPU ms/MiB. The socket's own 16 KiB mark is not used, or every bulk packet
  // would wait for 'drain' and live on across collections: only past CORK_LIMIT does a write wait.
  const writes = new TurnCorkedWriter(socket);
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (socket.destroyed) return Promise.reject(failure ?? new Error('Socket is closed'));
      if (writes.write(chunk)) return undefined;
      return new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          socket.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          socket.off('drain', onDrain);
          reject(failure ?? new Error('Socket closed while writing'));
        };
        socket.once('drain', onDrain).once('close', onClose);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed || socket.writableEnded) return resolve();
        socket.end(() => resolve());
      });
    },
    abort(reason) {
      socket.destroy(reason instanceof Error ? reason : undefined);
    },
  });
  return { readable, writable };
}
