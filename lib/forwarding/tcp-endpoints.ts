/**
 * The node:net side of forwarding: listening on an SSH "address to bind" (RFC 4254 §7.1 names
 * such as "" and "localhost" map to socket addresses), connecting to a forwarding target with
 * happy eyeballs, and a registry of live sockets and listeners so nothing outlives a session.
 * Knows nothing of channels; the pump and the service do.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import { net } from './net-backend.js';

/**
 * RFC 4254 §7.1: "" means every address and "localhost" the loopback address; other values are
 * used as given (reference notes §4.3).
 * @param address the address to bind as sent in `tcpip-forward`
 * @returns the address node:net listens on
 */
export function bindAddress(address: string): string {
  if (address === '' || address === '*') return '0.0.0.0';
  if (address === 'localhost') return '127.0.0.1';
  return address;
}

/**
 * Listens on `address:port` (port 0 lets the system choose). Connections start paused and
 * half-open capable, so nothing is read before a channel exists.
 * @param address a socket address (see `bindAddress`)
 * @param port the port, 0 for any
 * @returns the listening server
 * @throws Error from node:net (EADDRINUSE, EACCES, EADDRNOTAVAIL)
 */
export function listenTcp(address: string, port: number): Promise<Server> {
  const server = net().createServer({ allowHalfOpen: true, pauseOnConnect: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * The port a server listens on.
 * @param server a listening server
 * @returns the bound port
 */
export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/**
 * Connects to `host:port`, trying IPv6 and IPv4 addresses of a name in turn (happy eyeballs).
 * @param host a host name or address
 * @param port the port
 * @returns the connected socket, paused and half-open capable
 * @throws Error from node:net (ECONNREFUSED, ENOTFOUND, ...)
 */
export function connectTcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net().connect({ host, port, allowHalfOpen: true, autoSelectFamily: true });
    socket.pause();
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Live sockets and listeners of one forwarding service; `closeAll` ends them with the session. */
export class TcpRegistry {
  readonly #sockets = new Set<Socket>();
  readonly #servers = new Set<Server>();

  /** Sockets not yet closed. */
  get socketCount(): number {
    return this.#sockets.size;
  }

  /** Listeners not yet closed. */
  get listenerCount(): number {
    return this.#servers.size;
  }

  /** Tracks a socket until it closes. */
  addSocket(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Tracks a listener until `closeServer`. */
  addServer(server: Server): void {
    this.#servers.add(server);
  }

  /** Stops a listener at once; connections it accepted stay (so its 'close' event may come much later). */
  closeServer(server: Server): Promise<void> {
    this.#servers.delete(server);
    if (server.listening) server.close();
    return Promise.resolve();
  }

  /** Stops every listener and resets every socket (the session ended). */
  closeAll(reset: (socket: Socket) => void): void {
    for (const server of this.#servers) if (server.listening) server.close();
    this.#servers.clear();
    for (const socket of this.#sockets) reset(socket);
  }
}
