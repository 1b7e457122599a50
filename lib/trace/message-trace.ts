/**
 * What a message on the wire says, for diagnostics: its name (RFC 4250 §4.1 numbers, 30-49 and
 * 60-79 named by the exchange or method in progress) and, for the messages worth a line of their
 * own, the fields that are safe to show. Only leading, non-secret fields are ever decoded: a
 * password, an INFO_RESPONSE answer, a signature or channel data is never read, let alone shown.
 * Decoding errors are swallowed (the layer that handles the message reports them).
 */
import { ChannelOpenFailureReason } from '../errors.js';
import { decode } from '../codec/schema.js';
import { SshReader } from '../codec/wire.js';
import { Debug, KexInit, MessageType } from '../codec/messages/transport.js';
import { UserauthFailure, UserauthRequest } from '../codec/messages/userauth.js';
import * as M from '../codec/messages/connection.js';
import { fingerprintOfBlob, getFingerprint } from '../keys/fingerprint.js';
import { Certificate, isCertificateAlgorithm } from '../keys/certificate.js';
import type { TraceCategory, TraceLevel, TraceValue } from './trace-event.js';

/** Whether a message came from the peer or goes to it. */
export type Direction = 'in' | 'out';

/** Where described messages go (the Tracer). */
export interface MessageTraceSink {
  emit(level: TraceLevel, category: TraceCategory, message: string, fields: Record<string, TraceValue>): void;
}

const names = new Map<number, string>(
  Object.entries(MessageType)
    .filter(([name]) => !name.endsWith('First') && !name.endsWith('Last'))
    .map(([name, type]) => [type, name]),
);

/** RFC 4252 §7, §8, RFC 4256 §3.2-3.4: what 60 and 61 mean under each method. */
const methodMessageNames: Record<string, readonly string[]> = {
  publickey: ['UserauthPkOk'],
  'publickey-hostbound-v00@openssh.com': ['UserauthPkOk'],
  password: ['UserauthPasswdChangereq'],
  'keyboard-interactive': ['UserauthInfoRequest', 'UserauthInfoResponse'],
};

const openFailureNames = new Map<number, string>(Object.entries(ChannelOpenFailureReason).map(([name, code]) => [code, name]));

/**
 * The name of message `type`; `authMethod` is the method of the latest USERAUTH_REQUEST, which
 * decides what 60-79 mean (RFC 4252 §6).
 */
export function messageName(type: number, authMethod: string): string {
  const known = names.get(type);
  if (known !== undefined) return known;
  // RFC 4253 §8, RFC 5656 §4, RFC 8731: every single-round-trip method numbers its pair 30/31.
  if (type === 30) return 'KexInitMessage';
  if (type === 31) return 'KexReplyMessage';
  if (type >= MessageType.KexMethodFirst && type <= MessageType.KexMethodLast) return `KexMethodMessage${type}`;
  if (type >= MessageType.UserauthMethodFirst && type <= MessageType.UserauthMethodLast) {
    return methodMessageNames[authMethod]?.[type - MessageType.UserauthMethodFirst] ?? `UserauthMethodMessage${type}`;
  }
  return `Message${type}`;
}

/** RFC 4254 §5.1 reason code name (`connectFailed`), or `reason <n>`. */
export function openFailureName(code: number): string {
  return openFailureNames.get(code) ?? `reason ${code}`;
}

/** As `ssh -v` shows a key: a certificate by the key it certifies. */
function keyFingerprint(algorithm: string, blob: Uint8Array): string {
  if (isCertificateAlgorithm(algorithm)) {
    try {
      return getFingerprint(new Certificate(blob).publicKey);
    } catch {
      // Unparseable: the blob's own digest still tells keys apart.
    }
  }
  return fingerprintOfBlob(blob);
}

/** Channel ids from our side: a message we send names the peer's channel, one we receive ours. */
function channelIds(direction: Direction, recipient: number): { localChannel?: number; remoteChannel?: number } {
  return direction === 'in' ? { localChannel: recipient } : { remoteChannel: recipient };
}

/** Describes messages that deserve more than a name; keeps the authentication method in force. */
export class MessageDescriber {
  /** Method of the latest USERAUTH_REQUEST in either direction (names 60-79). */
  authMethod = '';
  readonly #sink: MessageTraceSink;
  readonly #level: number;

  constructor(sink: MessageTraceSink, level: number) {
    this.#sink = sink;
    this.#level = level;
  }

  /** Emits the events `payload` deserves at the configured level. */
  describe(direction: Direction, payload: Uint8Array): void {
    const type = payload[0]!;
    try {
      if (type >= MessageType.UserauthRequest && type <= MessageType.UserauthMethodLast) this.#auth(direction, type, payload);
      else if (this.#level >= 2) this.#debug(direction, type, payload);
    } catch {
      // Malformed: the layer that handles the message ends the session with a clear error.
    }
  }

  /** RFC 4252 §5-8, RFC 4256 §3: each step, without a secret. */
  #auth(direction: Direction, type: number, payload: Uint8Array): void {
    const emit = (message: string, fields: Record<string, TraceValue> = {}): void =>
      this.#sink.emit('info', 'auth', message, { direction, ...fields });
    if (type === MessageType.UserauthRequest) {
      const { userName, serviceName, methodName, methodFields } = decode(UserauthRequest, payload);
      this.authMethod = methodName;
      const fields: Record<string, TraceValue> = { username: userName, service: serviceName, method: methodName };
      if (methodName === 'publickey' || methodName === 'publickey-hostbound-v00@openssh.com') {
        // RFC 4252 §7: boolean (signed?), algorithm, key blob; the signature after them stays unread.
        const r = new SshReader(methodFields);
        const signed = r.boolean();
        const algorithm = r.utf8();
        const fingerprint = keyFingerprint(algorithm, r.string());
        const step = signed ? 'signed request' : 'query';
        return emit(`Authentication ${step}: publickey ${algorithm} ${fingerprint} for ${userName}`, {
          ...fields,
          algorithm,
          fingerprint,
          signed,
        });
      }
      if (methodName === 'keyboard-interactive') {
        const r = new SshReader(methodFields);
        r.utf8();
        fields.submethods = r.utf8();
      }
      return emit(`Authentication request: ${methodName} for ${userName}`, fields);
    }
    if (type === MessageType.UserauthFailure) {
      const failure = decode(UserauthFailure, payload);
      const methods = failure.authenticationsThatCanContinue;
      const what = failure.partialSuccess ? 'Partial success' : 'Authentication failed';
      return emit(`${what} for ${this.authMethod}; can continue: ${methods.join(',') || '(none)'}`, {
        method: this.authMethod,
        partialSuccess: failure.partialSuccess,
        methodsThatCanContinue: methods,
      });
    }
    if (type === MessageType.UserauthSuccess) return emit(`Authentication succeeded (${this.authMethod})`, { method: this.authMethod });
    if (type === MessageType.UserauthBanner) return emit('Banner received', {});
    const name = messageName(type, this.authMethod);
    if (name === 'UserauthInfoRequest') {
      // RFC 4256 §3.2: name, instruction, language, then the prompts; only their number is shown.
      const r = new SshReader(payload, 1);
      r.utf8();
      r.utf8();
      r.utf8();
      const prompts = r.uint32();
      return emit(`Keyboard-interactive: ${prompts} prompt(s)`, { prompts });
    }
    if (name === 'UserauthInfoResponse') {
      const responses = new SshReader(payload, 1).uint32();
      return emit(`Keyboard-interactive: ${responses} answer(s)`, { responses });
    }
    if (name === 'UserauthPkOk') return emit(`Public key accepted for ${this.authMethod}; signature follows`, { method: this.authMethod });
    emit(`Authentication message ${name} (${type})`, { messageType: type });
  }

  /** RFC 4254 channels and requests, RFC 4253 KEXINIT and DEBUG, RFC 8308 EXT_INFO. */
  #debug(direction: Direction, type: number, payload: Uint8Array): void {
    const emit = (category: TraceCategory, message: string, fields: Record<string, TraceValue>): void =>
      this.#sink.emit('debug', category, message, { direction, ...fields });
    const sent = direction === 'out' ? 'sent' : 'received';
    switch (type) {
      case MessageType.KexInit: {
        if (direction === 'out') return;
        const k = decode(KexInit, payload);
        return emit('kex', 'Peer KEXINIT', {
          kexAlgorithms: k.kexAlgorithms,
          hostKeyAlgorithms: k.serverHostKeyAlgorithms,
          encryptionClientToServer: k.encryptionAlgorithmsClientToServer,
          encryptionServerToClient: k.encryptionAlgorithmsServerToClient,
          macClientToServer: k.macAlgorithmsClientToServer,
          macServerToClient: k.macAlgorithmsServerToClient,
          compressionClientToServer: k.compressionAlgorithmsClientToServer,
          compressionServerToClient: k.compressionAlgorithmsServerToClient,
        });
      }
      case MessageType.Debug: {
        const d = decode(Debug, payload);
        return emit('transport', `DEBUG ${sent}: ${d.message}`, { text: d.message });
      }
      case MessageType.ExtInfo: {
        // RFC 8308 §2.3: names only; values (server-sig-algs lists) are long and public anyway.
        const r = new SshReader(payload, 1);
        const extensions: string[] = [];
        for (let n = r.uint32(); n > 0; n--) {
          extensions.push(r.utf8());
          r.string();
        }
        return emit('transport', `EXT_INFO ${sent}: ${extensions.join(',')}`, { extensions });
      }
      case MessageType.ServiceRequest:
      case MessageType.ServiceAccept: {
        const serviceName = new SshReader(payload, 1).utf8();
        return emit('auth', `${names.get(type)} ${sent}: ${serviceName}`, { service: serviceName });
      }
      case MessageType.GlobalRequest: {
        const m = decode(M.GlobalRequest, payload);
        return emit('request', `Global request ${sent}: ${m.requestName}${m.wantReply ? ' (reply wanted)' : ''}`, {
          requestType: m.requestName,
          wantReply: m.wantReply,
        });
      }
      case MessageType.RequestSuccess:
      case MessageType.RequestFailure:
        return emit('request', `Global request reply ${sent}: ${type === MessageType.RequestSuccess ? 'success' : 'failure'}`, {
          success: type === MessageType.RequestSuccess,
        });
      case MessageType.ChannelOpen: {
        const m = decode(M.ChannelOpen, payload);
        const ids = direction === 'out' ? { localChannel: m.senderChannel } : { remoteChannel: m.senderChannel };
        return emit('channel', `Channel open ${sent}: ${m.channelType}, window ${m.initialWindowSize}, max packet ${m.maximumPacketSize}`, {
          channelType: m.channelType,
          ...ids,
          initialWindowSize: m.initialWindowSize,
          maximumPacketSize: m.maximumPacketSize,
        });
      }
      case MessageType.ChannelOpenConfirmation: {
        const m = decode(M.ChannelOpenConfirmation, payload);
        const local = direction === 'in' ? m.recipientChannel : m.senderChannel;
        const remote = direction === 'in' ? m.senderChannel : m.recipientChannel;
        return emit('channel', `Channel ${local} open confirmation ${sent}: remote ${remote}, window ${m.initialWindowSize}, max packet ${m.maximumPacketSize}`, {
          localChannel: local,
          remoteChannel: remote,
          initialWindowSize: m.initialWindowSize,
          maximumPacketSize: m.maximumPacketSize,
        });
      }
      case MessageType.ChannelOpenFailure: {
        const m = decode(M.ChannelOpenFailure, payload);
        const reason = openFailureName(m.reasonCode);
        return emit('channel', `Channel open failure ${sent}: ${reason} (${m.reasonCode}) ${m.description}`, {
          ...channelIds(direction, m.recipientChannel),
          reasonCode: m.reasonCode,
          reason,
          description: m.description,
        });
      }
      case MessageType.ChannelEof:
      case MessageType.ChannelClose: {
        const recipient = M.readRecipientChannel(payload);
        const what = type === MessageType.ChannelEof ? 'EOF' : 'CLOSE';
        return emit('channel', `Channel ${what} ${sent} (${direction === 'in' ? 'local' : 'remote'} channel ${recipient})`, channelIds(direction, recipient));
      }
      case MessageType.ChannelRequest: {
        const m = decode(M.ChannelRequest, payload);
        const fields: Record<string, TraceValue> = { ...channelIds(direction, m.recipientChannel), requestType: m.requestType, wantReply: m.wantReply };
        // RFC 4254 §6.10: how a command ended is worth showing; other request data may hold secrets (env, exec).
        if (m.requestType === 'exit-status') fields.exitStatus = new SshReader(m.data).uint32();
        if (m.requestType === 'exit-signal') fields.exitSignal = new SshReader(m.data).utf8();
        return emit('request', `Channel request ${sent}: ${m.requestType}${m.wantReply ? ' (reply wanted)' : ''}`, fields);
      }
      case MessageType.ChannelSuccess:
      case MessageType.ChannelFailure: {
        const success = type === MessageType.ChannelSuccess;
        return emit('request', `Channel request reply ${sent}: ${success ? 'success' : 'failure'}`, {
          ...channelIds(direction, M.readRecipientChannel(payload)),
          success,
        });
      }
    }
  }
}
