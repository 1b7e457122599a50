/**
 * Services (reference README "Services"): a registered factory builds a service once per
 * connection the first time its activation fires (service request, session request type, channel
 * type or channel request type). A service handles the events it has methods for; everything
 * else falls through to the application's handlers. Registration lives in SessionConfig.
 */
import type { ServiceRegistration } from '../config.js';
import type { ChannelOpeningEvent, ChannelRequestEvent, RequestEvent, RequestHandler } from './events.js';

/**
 * What a service may implement; every method is optional.
 * - `onSessionRequest(e)`: global requests of its `sessionRequest` type (truthy = SUCCESS; set `e.responseData`).
 * - `onChannelOpening(e)`: opens of its `channelType`; reject with `e.reject()`, own the channel with `e.handled = true`.
 * - `onChannelRequest(e)`: channel requests of its `channelRequest` type.
 * - `dispose()`: the connection closed.
 */
export interface ConnectionService {
  onSessionRequest?: RequestHandler<RequestEvent>;
  onChannelOpening?(e: ChannelOpeningEvent): void | Promise<void>;
  onChannelRequest?: RequestHandler<ChannelRequestEvent>;
  dispose?(): void;
}

/** The services of one connection, built lazily from the registrations. */
export class Services {
  readonly #registrations: readonly ServiceRegistration[];
  readonly #owner: unknown;
  readonly #active = new Map<string, ConnectionService>();
  #disposed = false;

  constructor(registrations: readonly ServiceRegistration[], owner: unknown) {
    this.#registrations = registrations;
    this.#owner = owner;
  }

  /** Builds the named service if it is not active yet; undefined when no such service is registered. */
  activate(name: string): ConnectionService | undefined {
    // A closed connection must not build services anew.
    if (this.#disposed) return undefined;
    const existing = this.#active.get(name);
    if (existing !== undefined) return existing;
    const registration = this.#registrations.find((r) => r.name === name);
    if (registration === undefined) return undefined;
    const service = (registration.factory(this.#owner, registration.config) ?? {}) as ConnectionService;
    this.#active.set(name, service);
    return service;
  }

  /** The active service instance, if any. */
  get(name: string): ConnectionService | undefined {
    return this.#active.get(name);
  }

  /** Activates the service whose activation matches SSH_MSG_SERVICE_REQUEST `serviceName`. */
  forServiceRequest(serviceName: string): ConnectionService | undefined {
    return this.#activateWhere((a) => matches(a.serviceRequest, serviceName));
  }

  /** Activates the service for a global request type. */
  forSessionRequest(requestType: string): ConnectionService | undefined {
    return this.#activateWhere((a) => matches(a.sessionRequest, requestType));
  }

  /** Activates the service for a channel type (registrations without a channel request). */
  forChannelType(channelType: string): ConnectionService | undefined {
    return this.#activateWhere((a) => matches(a.channelType, channelType) && a.channelRequest === undefined);
  }

  /** Activates the service for a channel request, optionally restricted to a channel type. */
  forChannelRequest(channelType: string, requestType: string): ConnectionService | undefined {
    return this.#activateWhere(
      (a) => matches(a.channelRequest, requestType) && (a.channelType === undefined || matches(a.channelType, channelType)),
    );
  }

  /** Disposes every active service. */
  dispose(): void {
    this.#disposed = true;
    for (const service of this.#active.values()) {
      try {
        service.dispose?.();
      } catch {
        // A failing dispose must not keep the others alive.
      }
    }
    this.#active.clear();
  }

  #activateWhere(match: (a: ServiceRegistration['activation']) => boolean): ConnectionService | undefined {
    const registration = this.#registrations.find((r) => match(r.activation));
    return registration === undefined ? undefined : this.activate(registration.name);
  }
}

/** Whether an activation value (one name or several) names `value`. */
function matches(activation: string | readonly string[] | undefined, value: string): boolean {
  return typeof activation === 'string' ? activation === value : activation?.includes(value) === true;
}
