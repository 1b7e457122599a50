/**
 * Server side of the `ssh-userauth` service (RFC 4252 §5-8, RFC 4256, OpenSSH PROTOCOL §2.5), sans
 * I/O: the session routes SERVICE_REQUEST and messages 50-79 here and sends what this queues through
 * `AuthTransport`. The library verifies signatures; the application's handler decides who gets in.
 * It does not own the transport, the session or the connection service started after success.
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
  UserauthSuccess,
  userauthServiceName,
} from '../codec/messages/userauth.js';
import { KeyPair, keyTypeOfAlgorithm } from '../keys/key-pair.js';
import { Certificate, checkCertificate, isCertificateAlgorithm, plainAlgorithmOf } from '../keys/certificate.js';
import { sourceAddressAllows } from './source-address.js';
import {
  decodeKeyboardInteractiveFields,
  decodeUserauthInfoResponse,
  userauthInfoResponseCount,
  encodeUserauthInfoRequest,
  keyboardInteractiveMethod,
  UserauthInfoResponseType,
} from './keyboard-interactive.js';
import { decodePasswordFields, passwordMethod } from './password.js';
import {
  decodePublicKeyFields,
  isPublicKeyMethod,
  publicKeyHostboundMethod,
  publicKeyMethod,
  publicKeySignatureData,
  UserauthPkOk,
} from './publickey.js';
import {
  defaultTimers,
  InfoRequest,
  PartialSuccess,
  type AuthenticationResult,
  type AuthenticationType,
  type AuthTimers,
  type AuthTransport,
  type Prompt,
  type ServerAuthenticatingEvent,
  type ServerAuthenticatingHandler,
} from './types.js';

/** Requests a client may pipeline (RFC 4252 §5) before we stop reading them. */
const maxPendingMessages = 32;

/** Options of `ServerAuthentication`. */
export interface ServerAuthenticationOptions {
  onAuthenticating?: ServerAuthenticatingHandler | undefined;
  /** RFC 4252 §5.4 banner, sent before the answer to the first request. */
  banner?: string | undefined;
  /** Services a client may authenticate for (default: `ssh-connection`). */
  services?: readonly string[] | undefined;
  timers?: AuthTimers | undefined;
  /** The client's IP address, checked against a user certificate's `source-address`; without it such certificates are refused. */
  remoteAddress?: string | undefined;
}

type Step = Omit<ServerAuthenticatingEvent, 'previousMethods' | 'isQuery' | 'certificate'> & { isQuery?: boolean; certificate?: Certificate };

/**
 * Runs RFC 4252 for one server session. Messages are processed strictly in order, each after the
 * handler answered the previous one; anything arriving after success is ignored (RFC 4252 §5.1).
 */
export class ServerAuthentication {
  /** Decides each attempt; no handler means every attempt fails. */
  onAuthenticating: ServerAuthenticatingHandler | undefined;
  /** Called synchronously when authentication succeeds, before SUCCESS is sent. */
  onAuthenticated: ((result: AuthenticationResult) => void) | undefined;
  /** Called when a handler throws (the attempt is then rejected); never receives secrets from us. */
  onHandlerError: ((error: unknown) => void) | undefined;
  /** Settles once: the result on success, an AuthenticationError when the session ends first. */
  readonly authenticated: Promise<AuthenticationResult>;

  #transport: AuthTransport;
  #banner: string | undefined;
  #services: readonly string[];
  #timers: AuthTimers;
  #remoteAddress: string | undefined;
  #timer: unknown;
  #resolve!: (result: AuthenticationResult) => void;
  #reject!: (error: Error) => void;
  #result: AuthenticationResult | undefined;
  #closed = false;
  #serviceAccepted = false;
  #queue: Uint8Array[] = [];
  #draining = false;
  #requests = 0;
  #failures = 0;
  #methodsTried: string[] = [];
  #user: { userName: string; serviceName: string } | undefined;
  #canContinue: string[];
  #previousMethods: string[] = [];
  #pendingPrompts: { step: Step; prompts: readonly Prompt[] } | undefined;

  constructor(transport: AuthTransport, options: ServerAuthenticationOptions = {}) {
    this.#transport = transport;
    this.onAuthenticating = options.onAuthenticating;
    this.#banner = options.banner;
    this.#services = options.services ?? [connectionServiceName];
    this.#timers = options.timers ?? defaultTimers;
    this.#remoteAddress = options.remoteAddress;
    this.#canContinue = this.#offered();
    this.authenticated = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The session may never look at the promise; an unobserved rejection must not crash the process.
    this.authenticated.catch(() => undefined);
    const timeout = transport.config.authenticationTimeout;
    if (timeout > 0) {
      this.#timer = this.#timers.setTimeout(() => {
        this.#timer = undefined;
        this.#fail(DisconnectReason.byApplication, `Authentication timed out after ${timeout} ms`);
      }, timeout);
    }
  }

  /** True once a client has authenticated; until then the session refuses channel and global requests. */
  get isAuthenticated(): boolean {
    return this.#result !== undefined;
  }

  /** How the client authenticated, once it has. */
  get result(): AuthenticationResult | undefined {
    return this.#result;
  }

  /** Methods the client attempted, in first-use order. */
  get methodsTried(): readonly string[] {
    return this.#methodsTried;
  }

  /**
   * Takes SERVICE_REQUEST (5) and messages 50-79. Returns false for what the session handles
   * itself: other message numbers, and requests for other services once authenticated.
   */
  handleMessage(payload: Uint8Array): boolean {
    const type = payload[0];
    if (type === MessageType.ServiceRequest) return this.#handleServiceRequest(payload);
    // RFC 4253 §11.4: of 50-79 a client sends only USERAUTH_REQUEST and INFO_RESPONSE; the rest
    // (server messages, unassigned numbers) get UNIMPLEMENTED, before and after authentication.
    if (type !== MessageType.UserauthRequest && type !== UserauthInfoResponseType) return false;
    // RFC 4252 §5.1: requests after SUCCESS are silently ignored.
    if (this.isAuthenticated) return type === MessageType.UserauthRequest;
    if (this.#closed) return true;
    if (!this.#serviceAccepted) {
      this.#fail(DisconnectReason.protocolError, `Message ${type} before the ${userauthServiceName} service was requested`);
      return true;
    }
    if (this.#queue.length >= maxPendingMessages) {
      this.#fail(DisconnectReason.protocolError, `More than ${maxPendingMessages} authentication messages pending`);
      return true;
    }
    this.#queue.push(payload);
    void this.#drain();
    return true;
  }

  /** Stops all work (the session ended); `authenticated` rejects if still pending. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#clearTimer();
    if (!this.#result) {
      this.#reject(new AuthenticationError('Session closed before authentication', this.#methodsTried, { cause: error }));
    }
  }

  /** RFC 4253 §10 */
  #handleServiceRequest(payload: Uint8Array): boolean {
    if (this.#closed) return true;
    let serviceName: string;
    try {
      serviceName = decode(ServiceRequest, payload).serviceName;
    } catch (error) {
      this.#fail(DisconnectReason.protocolError, (error as Error).message);
      return true;
    }
    if (serviceName !== userauthServiceName) {
      if (this.isAuthenticated) return false;
      // RFC 4252 §1: no other service before authentication.
      this.#fail(DisconnectReason.serviceNotAvailable, `Service ${serviceName} is not available before authentication`);
      return true;
    }
    if (this.isAuthenticated) return false;
    this.#serviceAccepted = true;
    this.#send(encode(ServiceAccept, { serviceName }));
    return true;
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#queue.length > 0 && !this.#closed && !this.isAuthenticated) {
        await this.#process(this.#queue.shift()!);
      }
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.reason : DisconnectReason.protocolError;
      this.#fail(reason, (error as Error).message);
    } finally {
      this.#draining = false;
    }
  }

  async #process(payload: Uint8Array): Promise<void> {
    const type = payload[0];
    if (type === UserauthInfoResponseType && this.#pendingPrompts) {
      const { step, prompts } = this.#pendingPrompts;
      this.#pendingPrompts = undefined;
      // RFC 4256 §3.4: a count that does not match the prompts is a failure; its responses are never decoded.
      if (userauthInfoResponseCount(payload) !== prompts.length) return this.#decide(step, false);
      const responses = decodeUserauthInfoResponse(payload);
      return this.#decide(step, await this.#ask({ ...step, prompts, responses }));
    }
    if (type !== MessageType.UserauthRequest) throw new ProtocolError(`Unexpected authentication message ${type}`);
    // RFC 4256 §3.4: a new request abandons an unfinished keyboard-interactive exchange.
    this.#pendingPrompts = undefined;
    const request = decode(UserauthRequest, payload);
    const { userName, serviceName, methodName } = request;
    if (!this.#services.includes(serviceName)) {
      throw new ProtocolError(`Service ${serviceName} is not available`, DisconnectReason.serviceNotAvailable);
    }
    if (this.#user && (this.#user.userName !== userName || this.#user.serviceName !== serviceName)) {
      // RFC 4252 §5: a change of user or service resets the state of partial successes.
      this.#previousMethods = [];
      this.#canContinue = this.#offered();
    }
    this.#user = { userName, serviceName };
    this.#requests++;
    if (this.#requests === 1 && this.#banner !== undefined) {
      this.#send(encode(UserauthBanner, { message: this.#banner, languageTag: '' }));
    }
    const type_ = typeOfMethod(methodName);
    if (!this.#methodsTried.includes(methodName)) this.#methodsTried.push(methodName);
    const base = { username: userName, serviceName, methodName };
    if (type_ === undefined || (type_ !== 'none' && !this.#canContinue.includes(type_))) {
      return this.#decide({ ...base, authenticationType: type_ ?? 'none' }, false);
    }
    const fields = request.methodFields;
    if (type_ === 'none') {
      const offered = this.#offered(true).includes('none');
      const step = { ...base, authenticationType: type_ };
      return this.#decide(step, offered ? await this.#ask(step) : false);
    }
    if (type_ === 'password') {
      const { password, newPassword } = decodePasswordFields(fields);
      const step = { ...base, authenticationType: type_, password, newPassword };
      return this.#decide(step, await this.#ask(step));
    }
    if (type_ === 'keyboard-interactive') {
      const { submethods } = decodeKeyboardInteractiveFields(fields);
      const step = { ...base, authenticationType: type_, submethods };
      return this.#decide(step, await this.#ask(step));
    }
    return this.#publicKey(base, fields);
  }

  /** RFC 4252 §7, OpenSSH PROTOCOL §2.5: checks everything the library can before asking the app. */
  async #publicKey(base: { username: string; serviceName: string; methodName: string }, fields: Uint8Array): Promise<void> {
    const request = decodePublicKeyFields(base.methodName, fields);
    const step: Step = { ...base, authenticationType: 'publickey', publicKeyAlgorithm: request.algorithm };
    const config = this.#transport.config;
    if (!config.publicKeyAlgorithms.includes(request.algorithm)) return this.#decide(step, false);
    if (base.methodName === publicKeyHostboundMethod && !this.#isOurHostKey(request.hostKeyBlob)) {
      return this.#decide(step, false);
    }
    let publicKey: KeyPair;
    let certificate: Certificate | undefined;
    try {
      if (isCertificateAlgorithm(request.algorithm)) {
        certificate = new Certificate(request.publicKeyBlob);
        if (!certificate.algorithms.includes(request.algorithm)) return this.#decide(step, false);
      }
      publicKey = certificate?.publicKey ?? KeyPair.fromPublicKeyBlob(request.publicKeyBlob);
      if (keyTypeOfAlgorithm(plainAlgorithmOf(request.algorithm)) !== publicKey.keyType) return this.#decide(step, false);
      if (certificate) await this.#checkUserCertificate(certificate);
    } catch {
      return this.#decide(step, false);
    }
    if (certificate) step.certificate = certificate;
    if (request.signature === undefined) {
      const accepted = await this.#ask({ ...step, publicKey, isQuery: true });
      if (this.#closed) return;
      if (!accepted) return this.#decide(step, false);
      this.#send(encode(UserauthPkOk, { publicKeyAlgorithmName: request.algorithm, publicKeyBlob: request.publicKeyBlob }));
      return;
    }
    const data = publicKeySignatureData({
      sessionId: this.#transport.sessionId,
      userName: base.username,
      serviceName: base.serviceName,
      methodName: base.methodName,
      algorithm: request.algorithm,
      publicKeyBlob: request.publicKeyBlob,
      hostKeyBlob: request.hostKeyBlob,
    });
    // The signature blob must name the very algorithm of the request (RFC 8332 §3.2).
    const verified = await publicKey.verify(data, request.signature, [plainAlgorithmOf(request.algorithm)]);
    if (this.#closed) return;
    if (!verified) return this.#decide(step, false);
    const signed = { ...step, publicKey };
    return this.#decide(signed, await this.#ask(signed));
  }

  /**
   * PROTOCOL.certkeys: a user certificate must be a user certificate, inside its validity window,
   * signed by its CA, and carry only critical options we enforce: `source-address` against the
   * client's address (refused when unknown), `force-command` by the session. Trusting the CA and
   * the principals are the handler's decision.
   */
  async #checkUserCertificate(certificate: Certificate): Promise<void> {
    await checkCertificate(certificate, { type: 'user', now: new Date(this.#transport.config.clock()) });
    for (const [name, value] of certificate.criticalOptions) {
      if (name === 'force-command') continue;
      if (name === 'source-address') {
        if (this.#remoteAddress === undefined || !sourceAddressAllows(value, this.#remoteAddress)) {
          throw new AuthenticationError(`Certificate source-address ${value} does not allow ${this.#remoteAddress ?? 'an unknown address'}`);
        }
        continue;
      }
      throw new AuthenticationError(`Certificate critical option ${name} is not supported`);
    }
  }

  #isOurHostKey(blob: Uint8Array | undefined): boolean {
    const ours = this.#transport.hostKeyBlob;
    return !!blob && !!ours && constantTimeEqual(blob, ours);
  }

  async #ask(step: Step): Promise<unknown> {
    const handler = this.onAuthenticating;
    if (!handler || this.#closed) return undefined;
    try {
      return await handler({ isQuery: false, ...step, previousMethods: [...this.#previousMethods] });
    } catch (error) {
      this.onHandlerError?.(error);
      return undefined;
    }
  }

  /** RFC 4252 §5.1: turns the handler's answer into SUCCESS, FAILURE or an INFO_REQUEST. */
  #decide(step: Step, answer: unknown): void {
    if (this.#closed) return;
    if (answer instanceof InfoRequest) {
      if (step.authenticationType !== 'keyboard-interactive') return this.#decide(step, false);
      this.#pendingPrompts = { step, prompts: answer.prompts };
      this.#send(
        encodeUserauthInfoRequest({ name: answer.name, instruction: answer.instruction, languageTag: '', prompts: [...answer.prompts] }),
      );
      return;
    }
    if (answer instanceof PartialSuccess) {
      this.#previousMethods.push(step.authenticationType);
      const offered = this.#offered();
      this.#canContinue = answer.methods.filter((m) => offered.includes(m));
      this.#send(encode(UserauthFailure, { authenticationsThatCanContinue: this.#canContinue, partialSuccess: true }));
      return;
    }
    if (answer) {
      const result = { username: step.username, method: step.authenticationType, principal: answer, certificate: step.certificate };
      this.#result = result;
      this.#clearTimer();
      this.#queue.length = 0;
      this.onAuthenticated?.(result);
      this.#resolve(result);
      this.#send(encode(UserauthSuccess, {}));
      return;
    }
    // OpenSSH's rule: the first `none` probe is free, every other failure counts.
    if (!(this.#requests === 1 && step.methodName === 'none')) this.#failures++;
    const max = this.#transport.config.maxClientAuthenticationAttempts;
    if (this.#failures >= max) {
      this.#fail(DisconnectReason.noMoreAuthMethodsAvailable, `Too many authentication failures (${this.#failures} of ${max})`);
      return;
    }
    this.#send(encode(UserauthFailure, { authenticationsThatCanContinue: this.#canContinue, partialSuccess: false }));
  }

  /** The configured methods, in wire form; `none` is never listed in a FAILURE (RFC 4252 §5.2). */
  #offered(includeNone = false): string[] {
    const known = [publicKeyMethod, passwordMethod, keyboardInteractiveMethod];
    return this.#transport.config.authenticationMethods.filter((m) => known.includes(m) || (includeNone && m === 'none'));
  }

  #send(payload: Uint8Array): void {
    // A rejected send means the session is closing; it will call close().
    this.#transport.send(payload).catch(() => undefined);
  }

  #fail(reason: number, description: string): void {
    if (this.#closed) return;
    this.#transport.disconnect(reason, description);
    this.close(new ProtocolError(description, reason as DisconnectReason));
  }

  /**
   * Stops the authentication timeout without ending authentication: used when the session serves
   * the connection protocol without it (kex `none`, SessionConfig.noSecurity()).
   */
  cancelTimeout(): void {
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function typeOfMethod(methodName: string): AuthenticationType | undefined {
  if (isPublicKeyMethod(methodName)) return 'publickey';
  if (methodName === passwordMethod || methodName === keyboardInteractiveMethod || methodName === 'none') {
    return methodName;
  }
  return undefined;
}
