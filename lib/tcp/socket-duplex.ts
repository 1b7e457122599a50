/**
 * node:net sockets as the `{ readable, writable }` byte pair sessions run over. Nagle is off
 * (SSH packets are already coalesced), and socket errors end the streams instead of escaping as
 * unhandled 'error' events.
 */
import { Duplex as NodeDuplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Duplex } from '../transport/transport.js';

/** Adapts a connected socket to Web Streams. */
export function socketToDuplex(socket: Socket): Duplex {
  socket.setNoDelay(true);
  socket.on('error', () => {
    // Surfaced through the streams; a listener keeps it from crashing the process.
  });
  const { readable, writable } = NodeDuplex.toWeb(socket);
  return { readable: readable as ReadableStream<Uint8Array>, writable: writable as WritableStream<Uint8Array> };
}
