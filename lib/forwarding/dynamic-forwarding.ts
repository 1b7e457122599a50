/**
 * One connection of a dynamic forward (`ssh -D`): the SOCKS handshake read from the local socket,
 * a `direct-tcpip` channel opened to the target it names, the SOCKS reply for the outcome (an
 * open failure becomes the matching SOCKS error), then the socket and channel pumped both ways.
 */
import type { Socket } from 'node:net';
import type { Channel } from '../mux/channel.js';
import { ChannelOpenError } from '../errors.js';
import { SocksError, SocksHandshake, socksReply, type SocksTarget } from './socks.js';
import { pumpSocket, resetSocket } from './socket-pump.js';

/** How long a client may take to send its SOCKS request before it is dropped. */
const handshakeTimeoutMs = 30_000;

/**
 * Serves one accepted (paused) socket. Never rejects: bad requests get their SOCKS error reply
 * and the socket is closed.
 * @param socket the accepted socket, created with `allowHalfOpen` and paused
 * @param open opens the `direct-tcpip` channel to a target
 */
export async function serveSocksConnection(socket: Socket, open: (target: SocksTarget) => Promise<Channel>): Promise<void> {
  let request: { target: SocksTarget; rest: Uint8Array };
  try {
    request = await readRequest(socket);
  } catch (error) {
    const reply = error instanceof SocksError ? error.reply : undefined;
    if (reply && !socket.destroyed) socket.end(reply);
    else resetSocket(socket);
    return;
  }
  let channel: Channel;
  try {
    channel = await open(request.target);
  } catch (error) {
    const reason = error instanceof ChannelOpenError ? error.reason : 1;
    if (!socket.destroyed) socket.end(socksReply(request.target.version, reason));
    return;
  }
  if (socket.destroyed) return void channel.close();
  socket.write(socksReply(request.target.version));
  if (request.rest.length > 0) socket.unshift(request.rest);
  await pumpSocket(socket, channel);
}

function readRequest(socket: Socket): Promise<{ target: SocksTarget; rest: Uint8Array }> {
  const handshake = new SocksHandshake();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
    };
    const onData = (chunk: Buffer): void => {
      try {
        const progress = handshake.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (progress.reply) socket.write(progress.reply);
        if (progress.target) {
          done();
          resolve({ target: progress.target, rest: progress.rest ?? new Uint8Array(0) });
        }
      } catch (error) {
        done();
        reject(error);
      }
    };
    const onEnd = (): void => {
      done();
      reject(new SocksError('SOCKS client left before its request was complete'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new SocksError(`SOCKS request not complete within ${handshakeTimeoutMs} ms`));
    }, handshakeTimeoutMs);
    timer.unref?.();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}
