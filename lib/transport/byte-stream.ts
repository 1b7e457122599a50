/**
 * Letting go of a transport's byte stream when it ends: queued bytes (our DISCONNECT) drain
 * before the reader is cancelled, because cancelling a socket's readable destroys the socket.
 * Closing can wait on the peer, so it is bounded.
 */

/** How long a closing writer may take before it is aborted. */
const CLOSE_TIMEOUT_MS = 2000;

/** Closes `writer` (bounded), then cancels `reader`, both with `error` as the reason. */
export function releaseByteStream(
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined,
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  error: Error,
): void {
  const cancel = (): void => void reader?.cancel(error).catch(() => {});
  if (!writer) return cancel();
  const timer = setTimeout(() => {
    writer.abort(error).catch(() => {});
    cancel();
  }, CLOSE_TIMEOUT_MS);
  timer.unref?.();
  const done = (): void => {
    clearTimeout(timer);
    cancel();
  };
  writer.close().then(done, done);
}
