/**
 * The `password` method (RFC 4252 §8): request fields, including the password change form, and
 * PASSWD_CHANGEREQ. The server never compares passwords itself; the application's handler does.
 */
import { message, utf8 } from '../codec/schema.js';
import { SshReader, SshWriter } from '../codec/wire.js';

/** RFC 4252 §8 method name. */
export const passwordMethod = 'password';

/** RFC 4252 §8 */
export const UserauthPasswdChangereq = message(60, 'UserauthPasswdChangereq', { prompt: utf8, languageTag: utf8 });

/** The method-specific fields of a password USERAUTH_REQUEST. */
export interface PasswordFields {
  password: string;
  /** Set for a change request (the boolean of RFC 4252 §8 is TRUE). */
  newPassword?: string | undefined;
}

/** RFC 4252 §8: encodes the fields after the method name. */
export function encodePasswordFields(fields: PasswordFields): Uint8Array {
  const w = new SshWriter(64);
  w.boolean(fields.newPassword !== undefined).string(fields.password);
  if (fields.newPassword !== undefined) w.string(fields.newPassword);
  return w.toBytes();
}

/** RFC 4252 §8: decodes the fields after the method name; errors never quote the values. */
export function decodePasswordFields(data: Uint8Array): PasswordFields {
  const r = new SshReader(data);
  r.context = 'UserauthRequest(password)';
  const isChange = r.boolean();
  const password = r.utf8();
  const newPassword = isChange ? r.utf8() : undefined;
  r.end();
  return { password, newPassword };
}
