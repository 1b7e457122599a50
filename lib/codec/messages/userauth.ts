/**
 * Generic user authentication messages 50-53 (RFC 4252 §5-5.4). The method-specific fields of a
 * USERAUTH_REQUEST and the method-specific numbers 60-79 are declared with their method in
 * `lib/auth/`, since 60 means PK_OK, PASSWD_CHANGEREQ or INFO_REQUEST depending on the method.
 */
import { boolean, message, nameList, rest, utf8 } from '../schema.js';

/** Service name of the user authentication protocol (RFC 4252 §1). */
export const userauthServiceName = 'ssh-userauth';

/** Service name of the connection protocol, the usual target of authentication (RFC 4254 §1). */
export const connectionServiceName = 'ssh-connection';

/** RFC 4252 §5; `methodFields` holds the method-specific fields, decoded by the method. */
export const UserauthRequest = message(50, 'UserauthRequest', {
  userName: utf8,
  serviceName: utf8,
  methodName: utf8,
  methodFields: rest,
});

/** RFC 4252 §5.1 */
export const UserauthFailure = message(51, 'UserauthFailure', {
  authenticationsThatCanContinue: nameList,
  partialSuccess: boolean,
});

/** RFC 4252 §5.1 */
export const UserauthSuccess = message(52, 'UserauthSuccess', {});

/** RFC 4252 §5.4 */
export const UserauthBanner = message(53, 'UserauthBanner', { message: utf8, languageTag: utf8 });
