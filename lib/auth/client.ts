/**
 * Client side of the `ssh-userauth` service (RFC 4252 §5-8, RFC 4256, RFC 8332 §3.3, OpenSSH
 * PROTOCOL §2.5), sans I/O: the session routes SERVICE_ACCEPT and messages 50-79 here; requests go
 * out through `AuthTransport`. Methods are tried in the order of `config.authenticationMethods`,
 * among those the server says can continue. Host key checking belongs to the key exchange, not here.
 */
import { AuthenticationError, DisconnectReason, ProtocolError } from '../errors.js';
import { decode, encode } from '../codec/schema.js';
import { constantTimeEqual } from '../codec/constant-time.js';
import { MessageType, ServiceAccept, ServiceRequest } from '../codec/messages/transport.js';
import {
  connectionServiceName,
  UserauthBanner,
  UserauthFailure,
  UserauthRequest,
  userauthServiceName,
} from '../codec/messages/userauth.js';
import { keyTypeOfAlgorithm, type KeyType } from '../keys/key-pair.js';
import { certificateAlgorithmOf, isCertificateAlgorithm, plainAlgorithmOf, type Certificate } from '../keys/certificate.js';
import { keyOf, wireBlobOf } from '../keys/certified-key.js';
import {
  decodeUserauthInfoRequest,
  encodeKeyboardInteractiveFields,
  encodeUserauthInfoResponse,
  keyboardInteractiveMethod,
} from './keyboard-interactive.js';
import { encodePasswordFields, passwordMethod, UserauthPasswdChangereq } from './password.js';
import {
  chooseSignatureAlgorithms,
  encodePublicKeyFields,
  publicKeyHostboundExtension,
  publicKeyHostboundMethod,
  publicKeyMethod,
  publicKeySignatureData,
  serverSigAlgsExtension,
  UserauthPkOk,
} from './publickey.js';
import type { AuthenticationType, AuthTransport, ClientCredentials, KeyboardInteractiveResponder } from './types.js';

/**
 * RFC 4252 §7: PK_OK echoes the queried key. Some servers (the ssh2 package) name an RSA key
 * `ssh-rsa` after an `rsa-sha2-512` query; OpenSSH's client compares key types too, not names.
 */
function sameKeyType(answered: string, asked: string): boolean {
  try {
    return (
      isCertificateAlgorithm(answered) === isCertificateAlgorithm(asked) &&
      keyTypeOfAlgorithm(plainAlgorithmOf(answered)) === keyTypeOfAlgorithm(plainAlgorithmOf(asked))
    );
  } catch {
    return false;
  }
}

/** Messages the server may send ahead of our reading them; more is a protocol violation. */
const maxInbox = 16;
/** Keyboard-interactive rounds answered in one attempt before giving up on a looping server. */
const maxInfoRounds = 32;
/** Most prompts one INFO_REQUEST may ask (a real one asks a handful); more is a DISCONNECT. */
export const maxInfoPrompts = 100;
/** Largest INFO_REQUEST decoded (name, instruction and prompts together); larger is a DISCONNECT. */
export const maxInfoRequestBytes = 64 * 1024;
/** Banner bytes accepted in one session (all USERAUTH_BANNERs together); more is a DISCONNECT. */
export const maxBannerBytes = 64 * 1024;

/** Options of `ClientAuthentication`. */
export interface ClientAuthenticationOptions {
  /** RFC 4252 §5.4: the server's banner, to show to the user. */
  onBanner?: ((message: string, languageTag: string) => void) | undefined;
}

type Reply = { kind: 'success' } | { kind: 'failure'; partialSuccess: boolean } | { kind: 'method'; payload: Uint8Array };

/** A key the client can prove it holds: in memory or in an agent, with or without a certificate. */
interface Identity {
  keyType: KeyType;
  certificate: Certificate | undefined;
  /** The blob sent: the certificate or the plain public key. */
  blob: Uint8Array;
  sign(algorithm: string, data: Uint8Array): Promise<Uint8Array>;
}

interface Attempt {
  credentials: ClientCredentials;
  nextKey: number;
  /** The agent's identities once listed, and the next one to try. */
  agentKeys?: Identity[];
  nextAgentKey: number;
  passwordDone: boolean;
  keyboardInteractiveDone: boolean;
}

/**
 * Runs RFC 4252 for one client session. `authenticate` may be called again with other credentials
 * after it resolved false; the server's list of methods that can continue carries over.
 */
export class ClientAuthentication {
  /** RFC 4252 §5.4: the server's banner, to show to the user. */
  onBanner: ((message: string, languageTag: string) => void) | undefined;

  #transport: AuthTransport;
  #inbox: Uint8Array[] = [];
  #waiter: { resolve: (p: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  #closedBy: Error | undefined;
  #service: 'idle' | 'requested' | 'accepted' = 'idle';
  #busy = false;
  #bannerBytes = 0;
  #canContinue: string[] | undefined;
  #methodsTried: string[] = [];
  #authenticatedWith: { username: string; method: AuthenticationType } | undefined;

  constructor(transport: AuthTransport, options: ClientAuthenticationOptions = {}) {
    this.#transport = transport;
    this.onBanner = options.onBanner;
  }

  get isAuthenticated(): boolean {
    return this.#authenticatedWith !== undefined;
  }

  /** The user and final method, once authenticated. */
  get result(): { username: string; method: AuthenticationType } | undefined {
    return this.#authenticatedWith;
  }

  /** Methods attempted so far, in first-use order (`publickey-hostbound-v00@openssh.com` reported as sent). */
  get methodsTried(): readonly string[] {
    return this.#methodsTried;
  }

  /** The server's last list of methods that can continue (RFC 4252 §5.1); undefined before the first answer. */
  get methodsThatCanContinue(): readonly string[] | undefined {
    return this.#canContinue;
  }

  /**
   * Takes SERVICE_ACCEPT (6) for `ssh-userauth` and messages 50-79 until authenticated; returns
   * false for anything else.
   * Never throws: a malformed message disconnects the session.
   */
  handleMessage(payload: Uint8Array): boolean {
    const type = payload[0];
    const ours =
      (type === MessageType.ServiceAccept && this.#service === 'requested') ||
      (type !== undefined && type >= MessageType.UserauthRequest && type <= MessageType.UserauthMethodLast);
    if (!ours) return false;
    // RFC 4252 §5.1: nothing of 50-79 follows SUCCESS; the session answers it with UNIMPLEMENTED (RFC 4253 §11.4).
    if (this.isAuthenticated) return false;
    if (this.#closedBy) return true;
    if (type === MessageType.UserauthBanner) {
      this.#banner(payload);
    } else if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve(payload);
    } else if (this.#inbox.length < maxInbox) {
      this.#inbox.push(payload);
    } else {
      this.#abort(new ProtocolError(`More than ${maxInbox} unread authentication messages`));
    }
    return true;
  }

  /**
   * RFC 4252 §5: authenticates `credentials.username`, trying every method that has credentials.
   * @returns true once authenticated, false when no method is left to try
   * @throws AuthenticationError (with `methods` and the cause) when the session fails or closes
   */
  async authenticate(credentials: ClientCredentials): Promise<boolean> {
    if (this.isAuthenticated) return true;
    if (this.#busy) throw new AuthenticationError('Authentication is already in progress', this.#methodsTried);
    this.#busy = true;
    try {
      return await this.#run({ credentials, nextKey: 0, nextAgentKey: 0, passwordDone: false, keyboardInteractiveDone: false });
    } catch (error) {
      if (error instanceof ProtocolError) this.#abort(error);
      if (error instanceof AuthenticationError) throw error;
      throw new AuthenticationError(`Authentication failed: ${(error as Error).message}`, this.#methodsTried, { cause: error });
    } finally {
      this.#busy = false;
    }
  }

  /** The session ended: a pending `authenticate` rejects with an AuthenticationError caused by `error`. */
  close(error: Error = new AuthenticationError('Session closed', [])): void {
    if (this.#closedBy) return;
    this.#closedBy = error;
    this.#inbox.length = 0;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  async #run(attempt: Attempt): Promise<boolean> {
    await this.#startService();
    if (this.#canContinue === undefined) {
      // RFC 4252 §5.2: `none` learns the methods the server offers (or lets us in).
      if (await this.#none(attempt)) return true;
    }
    for (;;) {
      const method = this.#nextMethod(attempt);
      if (method === undefined) return false;
      let done: boolean;
      if (method === publicKeyMethod) done = await this.#publicKey(attempt);
      else if (method === passwordMethod) done = await this.#password(attempt);
      else done = await this.#keyboardInteractive(attempt);
      if (done) return true;
    }
  }

  /** RFC 4253 §10 */
  async #startService(): Promise<void> {
    if (this.#service === 'accepted') return;
    if (this.#service === 'idle') {
      this.#service = 'requested';
      await this.#transport.send(encode(ServiceRequest, { serviceName: userauthServiceName }));
    }
    const payload = await this.#next();
    if (payload[0] !== MessageType.ServiceAccept) {
      throw new ProtocolError(`Expected ServiceAccept, got message ${payload[0]}`);
    }
    const { serviceName } = decode(ServiceAccept, payload);
    if (serviceName !== userauthServiceName) throw new ProtocolError(`Server accepted service ${serviceName}, not ${userauthServiceName}`);
    this.#service = 'accepted';
  }

  /** The first method of our preference the server allows and we hold credentials for. */
  #nextMethod(attempt: Attempt): string | undefined {
    const { credentials } = attempt;
    const canContinue = this.#canContinue ?? [];
    for (const method of this.#transport.config.authenticationMethods) {
      if (!canContinue.includes(method)) continue;
      if (method === publicKeyMethod && hasIdentityLeft(attempt)) return method;
      if (method === passwordMethod && credentials.password !== undefined && !attempt.passwordDone) return method;
      if (method === keyboardInteractiveMethod && !attempt.keyboardInteractiveDone) {
        if (credentials.keyboardInteractive) return method;
        // Servers that only offer keyboard-interactive (PAM) still ask for the password that way.
        if (credentials.password !== undefined && !canContinue.includes(passwordMethod)) return method;
      }
    }
    return undefined;
  }

  /** RFC 4252 §5.2 */
  async #none(attempt: Attempt): Promise<boolean> {
    await this.#request(attempt, 'none', new Uint8Array(0));
    const reply = await this.#reply('none');
    if (reply.kind === 'method') throw unexpected(reply.payload, 'none');
    return this.#settle(attempt, 'none', reply);
  }

  /** RFC 4252 §7 (OpenSSH PROTOCOL §2.5 when the server binds to its host key): query, then sign. */
  async #publicKey(attempt: Attempt): Promise<boolean> {
    while (hasIdentityLeft(attempt) && this.#canContinue?.includes(publicKeyMethod)) {
      const identity = await nextIdentity(attempt);
      if (!identity) continue;
      const extensions = this.#transport.peerExtensions;
      const hostKeyBlob = this.#transport.hostKeyBlob;
      const methodName = extensions?.has(publicKeyHostboundExtension) && hostKeyBlob ? publicKeyHostboundMethod : publicKeyMethod;
      const serverSigAlgs = extensions?.get(serverSigAlgsExtension)?.split(',');
      // PROTOCOL.certkeys: a certificate authenticates under `<plain>-cert-v01@openssh.com`, and
      // server-sig-algs names the plain algorithms.
      const ours = this.#transport.config.publicKeyAlgorithms;
      const usable = identity.certificate ? ours.filter(isCertificateAlgorithm).map(plainAlgorithmOf) : ours;
      const plainAlgorithms = chooseSignatureAlgorithms(identity.keyType, usable, serverSigAlgs);
      for (const plainAlgorithm of plainAlgorithms) {
        const algorithm = identity.certificate ? certificateAlgorithmOf(plainAlgorithm) : plainAlgorithm;
        const publicKeyBlob = identity.blob;
        await this.#request(attempt, methodName, encodePublicKeyFields(methodName, { algorithm, publicKeyBlob, hostKeyBlob }));
        const query = await this.#reply(publicKeyMethod);
        if (query.kind === 'success') return this.#settle(attempt, publicKeyMethod, query);
        if (query.kind === 'failure') {
          if (query.partialSuccess) return false;
          continue;
        }
        const ok = decode(UserauthPkOk, query.payload);
        if (!sameKeyType(ok.publicKeyAlgorithmName, algorithm) || !constantTimeEqual(ok.publicKeyBlob, publicKeyBlob)) {
          throw new ProtocolError(`Server accepted key ${ok.publicKeyAlgorithmName} that was not asked about`);
        }
        const data = publicKeySignatureData({
          sessionId: this.#transport.sessionId,
          userName: attempt.credentials.username,
          serviceName: connectionServiceName,
          methodName,
          algorithm,
          publicKeyBlob,
          hostKeyBlob,
        });
        const signature = await identity.sign(plainAlgorithm, data);
        await this.#request(attempt, methodName, encodePublicKeyFields(methodName, { algorithm, publicKeyBlob, hostKeyBlob, signature }));
        const reply = await this.#reply(publicKeyMethod);
        if (reply.kind === 'method') throw unexpected(reply.payload, methodName);
        if (reply.kind === 'success') return this.#settle(attempt, publicKeyMethod, reply);
        if (reply.partialSuccess) return false;
        break;
      }
    }
    // Remaining keys stay for a later round, e.g. after another method's partial success.
    return false;
  }

  /** RFC 4252 §8, including the password change dialogue. */
  async #password(attempt: Attempt): Promise<boolean> {
    attempt.passwordDone = true;
    const { password, changePassword } = attempt.credentials;
    await this.#request(attempt, passwordMethod, encodePasswordFields({ password: password! }));
    let reply = await this.#reply(passwordMethod);
    if (reply.kind === 'method') {
      const { prompt } = decode(UserauthPasswdChangereq, reply.payload);
      const newPassword = changePassword ? await changePassword(prompt) : undefined;
      // Declining leaves the server waiting for any new request (RFC 4252 §8).
      if (newPassword === undefined) return false;
      await this.#request(attempt, passwordMethod, encodePasswordFields({ password: password!, newPassword }));
      reply = await this.#reply(passwordMethod);
      if (reply.kind === 'method') return false;
    }
    return this.#settle(attempt, passwordMethod, reply);
  }

  /** RFC 4256 §3 */
  async #keyboardInteractive(attempt: Attempt): Promise<boolean> {
    attempt.keyboardInteractiveDone = true;
    const responder = attempt.credentials.keyboardInteractive ?? passwordResponder(attempt.credentials.password ?? '');
    await this.#request(attempt, keyboardInteractiveMethod, encodeKeyboardInteractiveFields({ languageTag: '', submethods: [] }));
    for (let round = 0; ; round++) {
      const reply = await this.#reply(keyboardInteractiveMethod);
      if (reply.kind !== 'method') return this.#settle(attempt, keyboardInteractiveMethod, reply);
      if (round >= maxInfoRounds) throw new AuthenticationError(`Server asked more than ${maxInfoRounds} rounds of prompts`, this.#methodsTried);
      // Checked before decoding: what reaches the responder stays small whatever the packet limit.
      if (reply.payload.length > maxInfoRequestBytes) {
        throw new ProtocolError(`Server sent a ${reply.payload.length}-byte keyboard-interactive request; limit is ${maxInfoRequestBytes}`);
      }
      const info = decodeUserauthInfoRequest(reply.payload);
      if (info.prompts.length > maxInfoPrompts) {
        throw new ProtocolError(`Server sent ${info.prompts.length} keyboard-interactive prompts; limit is ${maxInfoPrompts}`);
      }
      const responses = await responder(info.prompts, info.name, info.instruction);
      if (responses.length !== info.prompts.length) {
        throw new AuthenticationError(
          `Keyboard-interactive responder gave ${responses.length} answers to ${info.prompts.length} prompts`,
          this.#methodsTried,
        );
      }
      await this.#transport.send(encodeUserauthInfoResponse(responses));
    }
  }

  async #request(attempt: Attempt, methodName: string, methodFields: Uint8Array): Promise<void> {
    if (!this.#methodsTried.includes(methodName)) this.#methodsTried.push(methodName);
    const userName = attempt.credentials.username;
    await this.#transport.send(encode(UserauthRequest, { userName, serviceName: connectionServiceName, methodName, methodFields }));
  }

  /** RFC 4252 §5.1: the next answer; 60-79 are left to the method that is in progress. */
  async #reply(methodName: string): Promise<Reply> {
    const payload = await this.#next();
    const type = payload[0]!;
    if (type === MessageType.UserauthSuccess) {
      if (payload.length !== 1) throw new ProtocolError(`UserauthSuccess: ${payload.length - 1} trailing bytes at offset 1`);
      return { kind: 'success' };
    }
    if (type === MessageType.UserauthFailure) {
      const failure = decode(UserauthFailure, payload);
      this.#canContinue = failure.authenticationsThatCanContinue;
      return { kind: 'failure', partialSuccess: failure.partialSuccess };
    }
    if (type >= MessageType.UserauthMethodFirst && type <= MessageType.UserauthMethodLast) return { kind: 'method', payload };
    throw unexpected(payload, methodName);
  }

  /** Records a final answer; true when it was SUCCESS. */
  #settle(attempt: Attempt, method: AuthenticationType, reply: Exclude<Reply, { kind: 'method' }>): boolean {
    if (reply.kind !== 'success') return false;
    this.#authenticatedWith = { username: attempt.credentials.username, method };
    return true;
  }

  #next(): Promise<Uint8Array> {
    if (this.#closedBy) return Promise.reject(this.#closedBy);
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** RFC 4252 §5.4 */
  #banner(payload: Uint8Array): void {
    this.#bannerBytes += payload.length;
    if (this.#bannerBytes > maxBannerBytes) {
      return this.#abort(new ProtocolError(`Server sent ${this.#bannerBytes} bytes of banners; limit is ${maxBannerBytes}`));
    }
    try {
      const banner = decode(UserauthBanner, payload);
      this.onBanner?.(banner.message, banner.languageTag);
    } catch (error) {
      if (error instanceof ProtocolError) this.#abort(error);
      // An application callback that throws must not end the session.
    }
  }

  #abort(error: ProtocolError): void {
    if (this.#closedBy) return;
    // Closed first, so a pending authenticate() reports this error rather than the disconnect it causes.
    this.close(error);
    this.#transport.disconnect(error.reason, error.message);
  }
}

function hasIdentityLeft(attempt: Attempt): boolean {
  const { privateKeys, agent } = attempt.credentials;
  if (attempt.nextKey < (privateKeys?.length ?? 0)) return true;
  return agent !== undefined && (attempt.agentKeys === undefined || attempt.nextAgentKey < attempt.agentKeys.length);
}

/** The next key to try: private keys first, then the agent's (listed once per attempt). */
async function nextIdentity(attempt: Attempt): Promise<Identity | undefined> {
  const { privateKeys = [], agent } = attempt.credentials;
  if (attempt.nextKey < privateKeys.length) {
    const source = privateKeys[attempt.nextKey++]!;
    const entry = typeof source === 'function' ? await source() : source;
    const key = keyOf(entry);
    if (!key.hasPrivateKey) return undefined;
    return {
      keyType: key.keyType,
      certificate: 'certificate' in entry ? entry.certificate : undefined,
      blob: wireBlobOf(entry),
      sign: async (algorithm, data) => await key.sign(algorithm as Parameters<typeof key.sign>[0], data),
    };
  }
  if (!agent) return undefined;
  attempt.agentKeys ??= (await agent.listKeys()).map((id) => ({
    keyType: id.publicKey.keyType,
    certificate: id.certificate,
    blob: id.certificate?.blob ?? id.publicKey.publicKeyBlob,
    sign: (algorithm, data) => agent.sign(id, data, algorithm),
  }));
  return attempt.agentKeys[attempt.nextAgentKey++];
}

function unexpected(payload: Uint8Array, methodName: string): ProtocolError {
  return new ProtocolError(`Unexpected message ${payload[0]} during ${methodName} authentication`, DisconnectReason.protocolError);
}

/** Answers a single hidden prompt with the password; other prompts get empty answers. */
function passwordResponder(password: string): KeyboardInteractiveResponder {
  let used = false;
  return (prompts) =>
    prompts.map((p) => {
      if (p.echo || used) return '';
      used = true;
      return password;
    });
}
