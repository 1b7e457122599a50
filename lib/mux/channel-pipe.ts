/**
 * Channel-to-channel piping (reference notes §3.2): data and stderr both ways with backpressure
 * (pipeTo, so window credit follows the far side's consumption), channel requests forwarded with
 * their raw data and replies, EOF as EOF, and the first CLOSE forwarded with its exit status or
 * signal once the data before it has been delivered. Session-level piping is not here.
 */
import type { Channel, ChannelCloseInfo, ChannelCloseOptions } from './channel.js';

const noop = (): void => {};

function closeOptions(info: ChannelCloseInfo): ChannelCloseOptions | undefined {
  if (info.exitStatus !== undefined) return { exitStatus: info.exitStatus };
  if (info.exitSignal !== undefined) {
    return { exitSignal: info.exitSignal, coreDumped: info.coreDumped ?? false, errorMessage: info.errorMessage ?? '' };
  }
  return undefined;
}

function forward(from: Channel, to: Channel): Promise<unknown> {
  from.onRequest = (e) => to.request({ requestType: e.requestType, wantReply: e.wantReply, data: e.data });
  const data = from.readable.pipeTo(to.writable).catch(noop);
  const stderr = from.stderr.pipeTo(to.stderrWritable).catch(noop);
  return Promise.all([data, stderr]);
}

/**
 * Pipes `a` and `b` both ways; resolves when either channel has closed and the close was forwarded.
 * @example await serverChannel.pipe(await client.openChannel());
 */
export async function pipeChannels(a: Channel, b: Channel): Promise<void> {
  const aToB = forward(a, b);
  const bToA = forward(b, a);
  const relay = async (from: Channel, to: Channel, drained: Promise<unknown>): Promise<void> => {
    const info = await from.closed;
    if (info.closedBy !== 'session') await drained;
    await to.close(closeOptions(info));
  };
  await Promise.race([relay(a, b, aToB), relay(b, a, bToA)]);
}
