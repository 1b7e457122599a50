/**
 * A WebSocket↔TCP bridge on 127.0.0.1 for the browser specs, the part a real deployment puts
 * between a page and an SSH server. `ws://…/tcp/PORT` connects a TCP socket to 127.0.0.1:PORT
 * and relays bytes both ways; `ws://…/listen` parks the WebSocket until a TCP client connects to
 * `listenPort`, then relays between the two (so a page can be the SSH server). Binary frames only;
 * either side closing closes the other; each direction respects the other side's backpressure.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A running bridge. */
export interface Bridge {
  /** `ws://127.0.0.1:PORT` */
  readonly url: string;
  /** TCP port whose connections are paired with `/listen` WebSockets, first come first served. */
  readonly listenPort: number;
  close(): Promise<void>;
}

/** Bytes the WebSocket may buffer before the TCP side stops reading. */
const WS_HIGH_WATER_MARK = 4 * 1024 * 1024;

function relay(ws: WebSocket, socket: Socket, early: Buffer[]): void {
  socket.setNoDelay(true);
  const rawWs = (ws as unknown as { _socket: Socket })._socket;
  for (const chunk of early) if (!socket.write(chunk)) rawWs.pause();
  ws.on('message', (data: Buffer) => {
    if (!socket.write(data)) rawWs.pause();
  });
  socket.on('drain', () => rawWs.resume());
  socket.on('data', (data) => {
    ws.send(data, () => {
      if (ws.bufferedAmount < WS_HIGH_WATER_MARK / 4) socket.resume();
    });
    if (ws.bufferedAmount > WS_HIGH_WATER_MARK) socket.pause();
  });
  socket.on('end', () => ws.close(1000));
  socket.on('error', () => ws.close(1011));
  ws.on('close', () => socket.end());
  ws.on('error', () => socket.destroy());
}

/** Starts a bridge on 127.0.0.1. */
export async function startBridge(): Promise<Bridge> {
  const parked: { ws: WebSocket; early: Buffer[] }[] = [];
  const waiting: Socket[] = [];
  const sockets = new Set<Socket>();
  const pair = (): void => {
    while (parked.length > 0 && waiting.length > 0) {
      const { ws, early } = parked.shift()!;
      const socket = waiting.shift()!;
      ws.removeAllListeners('message');
      relay(ws, socket, early);
      socket.resume();
    }
  };

  const tcp: Server = createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    waiting.push(socket);
    pair();
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws, request) => {
    const path = request.url ?? '';
    const target = /^\/tcp\/(\d+)$/.exec(path);
    if (target) {
      const socket = connect({ host: '127.0.0.1', port: Number(target[1]) });
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      const early: Buffer[] = [];
      const hold = (data: Buffer): number => early.push(data);
      ws.on('message', hold);
      socket.once('connect', () => {
        ws.off('message', hold);
        relay(ws, socket, early);
      });
      socket.once('error', () => ws.close(1011, 'target refused'));
    } else if (path === '/listen') {
      const entry = { ws, early: [] as Buffer[] };
      ws.on('message', (data: Buffer) => entry.early.push(data));
      parked.push(entry);
      pair();
    } else {
      ws.close(1008, `unknown path ${path}`);
    }
  });

  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    listenPort: (tcp.address() as AddressInfo).port,
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await Promise.all([new Promise((resolve) => wss.close(resolve)), new Promise((resolve) => tcp.close(resolve))]);
    },
  };
}
