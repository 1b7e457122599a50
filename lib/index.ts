/**
 * ssh-streams: an SSH2 client and server on WHATWG Web Streams. The public export list of the
 * `ssh-streams` entry: sessions, channels, configuration, algorithm names, errors and key
 * generation. Key import/export lives in `ssh-streams/keys`, TCP wrappers in `ssh-streams/tcp`,
 * port forwarding in `ssh-streams/forwarding`. This file installs no backend: the package's entry
 * points `index.node.ts` and `index.browser.ts` install their platform first, then re-export it.
 */
export { SessionConfig } from './config.js';
export type { MessageHandler, ServiceActivation, ServiceFactory, ServiceRegistration } from './config.js';
export { Algorithms, AuthenticationMethods, ProtocolExtensions } from './algorithms.js';
export {
  SshError,
  ProtocolError,
  DisconnectError,
  AlgorithmNegotiationError,
  HostKeyError,
  AuthenticationError,
  ChannelOpenError,
  ChannelClosedError,
  KeyError,
  DisconnectReason,
  ChannelOpenFailureReason,
  ReconnectError,
  ReconnectFailureReason,
} from './errors.js';
export { SshSession } from './ssh-session.js';
export { pipeSession } from './pipe-session.js';
export type { ConnectOptions, SessionMetrics } from './ssh-session.js';
export { ClientSession } from './client-session.js';
export type { ClientAuthenticatingEvent, ClientAuthenticationResult } from './client-session.js';
export { ServerSession } from './server-session.js';
export type { ServerSessionOptions } from './server-session.js';
export type { ByteStream, Duplex, NativeByteStream, SessionCloseInfo } from './transport/transport.js';
export type { LatencyFigures } from './transport/reconnect/latency.js';
export type { KexOutcome } from './transport/handshake.js';
export type { NegotiatedAlgorithms } from './kex/negotiate.js';
export { InfoRequest, PartialSuccess } from './auth/types.js';
export type {
  AuthenticationResult,
  AuthenticationType,
  ClientCredentials,
  KeyboardInteractiveResponder,
  PrivateKeySource,
  Prompt,
  ServerAuthenticatingEvent,
  ServerAuthenticatingHandler,
} from './auth/types.js';
export { Channel } from './mux/channel.js';
export type { ChannelCloseInfo, ChannelCloseOptions, ChannelRequestOptions } from './mux/channel-types.js';
export { Connection } from './mux/connection.js';
export type { OpenChannelInit } from './mux/connection.js';
export { ChannelOpeningEvent, ChannelRequestEvent, RequestEvent } from './mux/events.js';
export type { RequestHandler, RequestResult } from './mux/events.js';
export type { GlobalRequestOptions, GlobalRequestReply } from './mux/global-requests.js';
export type { ConnectionService } from './mux/services.js';
export { TerminalMode } from './codec/messages/session-requests.js';
export type { PtyOptions, TerminalModes, WindowSize } from './codec/messages/session-requests.js';
export { serveExec } from './session/exec.js';
export type { ExecOptions } from './session/exec.js';
export type { TerminalServeOptions, PtyModule, PtyProcess, PtySpawnOptions, PtyDisposable } from './session/pty.js';
export { KeyPair, generateKeyPair } from './keys/key-pair.js';
export type { GenerateKeyPairOptions, KeyType, PublicKeyAlgorithmName } from './keys/key-pair.js';
export { webSocketToDuplex } from './websocket/web-socket-duplex.js';
export type { WebSocketDuplexOptions, WebSocketLike } from './websocket/web-socket-duplex.js';
export { traceLevels } from './trace/trace-event.js';
export type { TraceCategory, TraceEvent, TraceHandler, TraceLevel, TraceSetting, TraceValue } from './trace/trace-event.js';
