/**
 * The `keyboard-interactive` method (RFC 4256): request fields, INFO_REQUEST and INFO_RESPONSE.
 * Both carry counted arrays, which the schema codec does not express, so they are coded by hand
 * with the RFC 4251 reader and writer.
 */
import { ProtocolError } from '../errors.js';
import { SshReader, SshWriter } from '../codec/wire.js';
import type { Prompt } from './types.js';

/** RFC 4256 §3.1 method name. */
export const keyboardInteractiveMethod = 'keyboard-interactive';

/** RFC 4256 §5 message numbers. */
export const UserauthInfoRequestType = 60;
export const UserauthInfoResponseType = 61;

/** RFC 4256 §3.1: the fields after the method name. */
export interface KeyboardInteractiveFields {
  /** Deprecated by RFC 4256; sent empty. */
  languageTag: string;
  submethods: string[];
}

/** RFC 4256 §3.2 */
export interface UserauthInfoRequest {
  name: string;
  instruction: string;
  languageTag: string;
  prompts: Prompt[];
}

/** RFC 4256 §3.1 */
export function encodeKeyboardInteractiveFields(fields: KeyboardInteractiveFields): Uint8Array {
  return new SshWriter(32).string(fields.languageTag).nameList(fields.submethods).toBytes();
}

/** RFC 4256 §3.1 */
export function decodeKeyboardInteractiveFields(data: Uint8Array): KeyboardInteractiveFields {
  const r = new SshReader(data);
  r.context = 'UserauthRequest(keyboard-interactive)';
  const languageTag = r.utf8();
  const submethods = r.nameList();
  r.end();
  return { languageTag, submethods };
}

/** RFC 4256 §3.2 */
export function encodeUserauthInfoRequest(request: UserauthInfoRequest): Uint8Array {
  const w = new SshWriter(128);
  w.byte(UserauthInfoRequestType).string(request.name).string(request.instruction).string(request.languageTag);
  w.uint32(request.prompts.length);
  for (const p of request.prompts) w.string(p.prompt).boolean(p.echo);
  return w.toBytes();
}

/** RFC 4256 §3.2: rejects trailing bytes and counts the payload cannot hold. */
export function decodeUserauthInfoRequest(payload: Uint8Array): UserauthInfoRequest {
  const r = expectType(payload, UserauthInfoRequestType, 'UserauthInfoRequest');
  r.context = 'UserauthInfoRequest.name';
  const name = r.utf8();
  r.context = 'UserauthInfoRequest.instruction';
  const instruction = r.utf8();
  r.context = 'UserauthInfoRequest.languageTag';
  const languageTag = r.utf8();
  r.context = 'UserauthInfoRequest.prompts';
  // Each prompt takes at least 5 bytes: bound the count before looping on it.
  const count = checkedCount(r, 5);
  const prompts: Prompt[] = [];
  for (let i = 0; i < count; i++) prompts.push({ prompt: r.utf8(), echo: r.boolean() });
  r.end();
  return { name, instruction, languageTag, prompts };
}

/** RFC 4256 §3.4 */
export function encodeUserauthInfoResponse(responses: readonly string[]): Uint8Array {
  const w = new SshWriter(64);
  w.byte(UserauthInfoResponseType).uint32(responses.length);
  for (const response of responses) w.string(response);
  return w.toBytes();
}

/** RFC 4256 §3.4: the number of responses, read before any of them (a count that cannot match is refused undecoded). */
export function userauthInfoResponseCount(payload: Uint8Array): number {
  const r = expectType(payload, UserauthInfoResponseType, 'UserauthInfoResponse');
  r.context = 'UserauthInfoResponse.responses';
  return r.uint32();
}

/** RFC 4256 §3.4: errors name the field and offset, never the responses. */
export function decodeUserauthInfoResponse(payload: Uint8Array): string[] {
  const r = expectType(payload, UserauthInfoResponseType, 'UserauthInfoResponse');
  r.context = 'UserauthInfoResponse.responses';
  const count = checkedCount(r, 4);
  const responses: string[] = [];
  for (let i = 0; i < count; i++) responses.push(r.utf8());
  r.end();
  return responses;
}

function expectType(payload: Uint8Array, type: number, name: string): SshReader {
  const r = new SshReader(payload);
  r.context = name;
  const actual = r.byte();
  if (actual !== type) throw new ProtocolError(`Expected ${name} (${type}), got message ${actual}`);
  return r;
}

function checkedCount(r: SshReader, minimumSize: number): number {
  const at = r.offset;
  const count = r.uint32();
  if (count * minimumSize > r.remaining) {
    throw new ProtocolError(`${r.context}: count ${count} exceeds the ${r.remaining} bytes left at offset ${at}`);
  }
  return count;
}
