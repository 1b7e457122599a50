/**
 * Shared pieces of the dev-tunnels-ssh-tcp forwarding interop spec: their configuration with their
 * forwarding service, echo round trips through sockets, their streams and our channels that read
 * the echo back in full without half-closing (their streams never half-close), and free ports.
 */
import { expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type * as dt from '@microsoft/dev-tunnels-ssh';
import * as dtTcp from '@microsoft/dev-tunnels-ssh-tcp';
import type { Channel } from '../../lib/mux/channel.js';
import { sha256, startEchoServer, tcpConnect } from '../forwarding/tcp-fixtures.js';
import { MiB, theirConfig } from './dev-tunnels-peers.js';

/** Their configuration with their port forwarding service registered. */
export function theirForwardingConfig(): dt.SshSessionConfiguration {
  const config = theirConfig();
  config.addService(dtTcp.PortForwardingService);
  return config;
}

/** Writes `data` into a socket or their stream and reads the echo back until as many bytes came; stays open. */
export function echoRoundTrip(stream: Duplex, data: Uint8Array): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const done = (error?: Error): void => {
      stream.off('data', onData);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= data.length) done();
    };
    stream.on('data', onData);
    stream.once('error', done);
    stream.once('close', () => done(new Error(`Closed after ${received} of ${data.length} echoed bytes`)));
    stream.write(Buffer.from(data));
  });
}

/** The same through one of our channels. */
export async function channelRoundTrip(channel: Channel, data: Uint8Array): Promise<Buffer> {
  const writer = channel.writable.getWriter();
  const written = writer.write(data);
  const chunks: Buffer[] = [];
  let received = 0;
  const reader = channel.readable.getReader();
  while (received < data.length) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`EOF after ${received} of ${data.length} echoed bytes`);
    chunks.push(Buffer.from(value));
    received += value.length;
  }
  await written;
  reader.releaseLock();
  writer.releaseLock();
  return Buffer.concat(chunks);
}

/** A MiB through a TCP connection to `port` and back, by SHA-256; then the connection closes. */
export async function expectTcpEcho(port: number): Promise<void> {
  const data = randomBytes(MiB);
  const socket = await tcpConnect(port);
  try {
    const echoed = await echoRoundTrip(socket, data);
    expect(echoed.length).toBe(MiB);
    expect(sha256(echoed)).toBe(sha256(data));
  } finally {
    socket.destroy();
  }
}

/** A port nothing listens on (it was bound a moment ago, then released). */
export async function freePort(): Promise<number> {
  const server = await startEchoServer();
  await server.close();
  return server.port;
}

/** True when nothing accepts connections on 127.0.0.1:port. */
export async function refusesConnections(port: number): Promise<boolean> {
  try {
    (await tcpConnect(port)).destroy();
    return false;
  } catch {
    return true;
  }
}
