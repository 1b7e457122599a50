import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as schema from '../../../lib/codec/schema.js';
import { decode, decodeFields, encode, encodeFields, type Field, type MessageSchema } from '../../../lib/codec/schema.js';
import * as transport from '../../../lib/codec/messages/transport.js';
import * as userauth from '../../../lib/codec/messages/userauth.js';
import * as connection from '../../../lib/codec/messages/connection.js';
import * as requests from '../../../lib/codec/messages/session-requests.js';
import * as forwarding from '../../../lib/forwarding/messages.js';
import * as streamLocal from '../../../lib/forwarding/stream-local-messages.js';
import { UserauthPkOk, decodePublicKeyFields, encodePublicKeyFields } from '../../../lib/auth/publickey.js';
import { UserauthPasswdChangereq, decodePasswordFields, encodePasswordFields } from '../../../lib/auth/password.js';
import * as keyboard from '../../../lib/auth/keyboard-interactive.js';
import { decodeExtInfo, encodeExtInfo } from '../../../lib/transport/ext-info.js';
import { expectValueOrProtocolError, mutatedBytes, propertyParameters, sshText } from '../../helpers/property.js';

const text = sshText;
const name = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-@.'), minLength: 1, maxLength: 16 });
const blob = fc.uint8Array({ maxLength: 100 });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });

/** Arbitraries for the shared field declarations, found by identity. */
const byField = new Map<Field<any>, fc.Arbitrary<unknown>>([
  [schema.byte, fc.integer({ min: 0, max: 255 })],
  [schema.boolean, fc.boolean()],
  [schema.uint32, uint32],
  [schema.uint64, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })],
  [schema.string, blob],
  [schema.utf8, text],
  [schema.nameList, fc.array(name, { maxLength: 5 })],
  [schema.mpint, blob.map((b) => b.subarray(b.findIndex((x) => x !== 0) === -1 ? b.length : b.findIndex((x) => x !== 0)))],
  [schema.rest, blob],
]);

/** Fields built by a call (bytes(n), optional(...), a lenient text field), by `Name.field`; `optional` ones may be absent. */
const byName: Record<string, { arbitrary: fc.Arbitrary<unknown>; optional?: boolean }> = {
  'KexInit.cookie': { arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) },
  'Disconnect.languageTag': { arbitrary: text, optional: true },
  'ExecRequest.command': { arbitrary: text },
  'EnvRequest.value': { arbitrary: text },
  'TcpipForwardReply.portBound': { arbitrary: uint32, optional: true },
  'DirectStreamLocalOpen.reserved': { arbitrary: text, optional: true },
  'DirectStreamLocalOpen.reservedPort': { arbitrary: uint32, optional: true },
  'ForwardedStreamLocalOpen.reserved': { arbitrary: text, optional: true },
};

type Fields = Record<string, Field<unknown>>;

/** Valid values of a field sequence; optional fields are absent only from the first absent one on, as on the wire. */
function valuesOf(label: string, fields: Fields): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(fields);
  const parts = keys.map((key) => {
    const special = byName[`${label}.${key}`];
    const arbitrary = special?.arbitrary ?? byField.get(fields[key]!);
    if (!arbitrary) throw new Error(`No arbitrary for ${label}.${key}`);
    return special?.optional ? fc.option(arbitrary, { nil: undefined }) : arbitrary;
  });
  return fc.tuple(...parts).map((values) => {
    const out: Record<string, unknown> = {};
    let absent = false;
    keys.forEach((key, i) => {
      absent ||= values[i] === undefined;
      out[key] = absent ? undefined : values[i];
    });
    return out;
  });
}

const messages: MessageSchema[] = [
  transport.Disconnect,
  transport.Ignore,
  transport.Unimplemented,
  transport.Debug,
  transport.ServiceRequest,
  transport.ServiceAccept,
  transport.KexInit,
  transport.NewKeys,
  userauth.UserauthRequest,
  userauth.UserauthFailure,
  userauth.UserauthSuccess,
  userauth.UserauthBanner,
  UserauthPkOk,
  UserauthPasswdChangereq,
  ...connection.connectionMessages,
];

const fieldSets: [string, Fields][] = [
  ['PtyRequest', requests.PtyRequest],
  ['X11Request', requests.X11Request],
  ['EnvRequest', requests.EnvRequest],
  ['ExecRequest', requests.ExecRequest],
  ['SubsystemRequest', requests.SubsystemRequest],
  ['WindowChangeRequest', requests.WindowChangeRequest],
  ['XonXoffRequest', requests.XonXoffRequest],
  ['SignalRequest', requests.SignalRequest],
  ['ExitStatusRequest', requests.ExitStatusRequest],
  ['ExitSignalRequest', requests.ExitSignalRequest],
  ['TcpipForwardRequest', forwarding.TcpipForwardRequest],
  ['TcpipForwardReply', forwarding.TcpipForwardReply],
  ['ForwardedTcpipOpen', forwarding.ForwardedTcpipOpen],
  ['DirectTcpipOpen', forwarding.DirectTcpipOpen],
  ['StreamLocalForwardRequest', streamLocal.StreamLocalForwardRequest],
  ['DirectStreamLocalOpen', streamLocal.DirectStreamLocalOpen],
  ['ForwardedStreamLocalOpen', streamLocal.ForwardedStreamLocalOpen],
];

/** Arbitrary payloads for a message: mostly with its own type byte, so decoding gets past it. */
function hostileBytes(type: number | undefined, valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const raw = fc.uint8Array({ maxLength: 80 });
  return fc.oneof(
    raw,
    type === undefined ? raw : raw.map((b) => Uint8Array.from([type, ...b])),
    mutatedBytes(valid),
  );
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('message codecs (properties)', () => {
  describe.each(messages.map((m) => [m.name, m] as const))('%s', (label, message) => {
    const values = valuesOf(label, message.fields as Fields);
    const encoded = values.map((v) => encode(message as never, v as never).slice());

    it('decodes what it encodes to the same value and the same bytes', () => {
      fc.assert(
        fc.property(values, (value) => {
          const bytes = encode(message as never, value as never);
          expect(bytes[0]).toBe(message.type);
          const decoded = decode(message as never, bytes.slice());
          expect(decoded).toEqual(value);
          expect(hex(encode(message as never, decoded as never))).toBe(hex(bytes));
        }),
        propertyParameters(100),
      );
    });

    it('turns arbitrary and mutated bytes into a value or a ProtocolError naming the message and offset', () => {
      const names = new RegExp(`^(Expected ${label} \\(${message.type}\\), got message \\d+$|${label}(\\.\\w+)?: .*offset \\d+)`);
      fc.assert(
        fc.property(hostileBytes(message.type, encoded), (bytes) => expectValueOrProtocolError(() => decode(message as never, bytes), names)),
        propertyParameters(150),
      );
    });
  });

  describe.each(fieldSets)('request data %s', (label, fields) => {
    const values = valuesOf(label, fields);
    const encoded = values.map((v) => encodeFields(fields, v as never).slice());

    it('decodes what it encodes to the same value', () => {
      fc.assert(
        fc.property(values, (value) => void expect(decodeFields(label, fields, encodeFields(fields, value as never).slice())).toEqual(value)),
        propertyParameters(100),
      );
    });

    it('turns arbitrary and mutated bytes into a value or a ProtocolError naming the field and offset', () => {
      const names = new RegExp(`^${label}(\\.\\w+)?: .*offset \\d+`);
      fc.assert(
        fc.property(hostileBytes(undefined, encoded), (bytes) => expectValueOrProtocolError(() => decodeFields(label, fields, bytes), names)),
        propertyParameters(150),
      );
    });
  });
});

describe('hand-written decoders (properties)', () => {
  const channelData = fc.record({ recipientChannel: uint32, data: blob });
  const extendedData = fc.record({ recipientChannel: uint32, dataTypeCode: uint32, data: blob });

  it('CHANNEL_DATA, EXTENDED_DATA and WINDOW_ADJUST agree with the schema codec on every input', () => {
    const cases = [
      [connection.ChannelData, connection.decodeChannelData, channelData.map((v) => connection.encodeChannelData(v.recipientChannel, v.data))],
      [
        connection.ChannelExtendedData,
        connection.decodeChannelExtendedData,
        extendedData.map((v) => connection.encodeChannelExtendedData(v.recipientChannel, v.dataTypeCode, v.data)),
      ],
      [
        connection.ChannelWindowAdjust,
        connection.decodeChannelWindowAdjust,
        fc.tuple(uint32, uint32).map(([c, n]) => connection.encodeChannelWindowAdjust(c, n)),
      ],
    ] as const;
    for (const [message, fast, valid] of cases) {
      fc.assert(
        fc.property(fc.oneof(valid, hostileBytes(message.type, valid)), (bytes) => {
          bytes[0] = message.type;
          let generic: unknown;
          try {
            generic = decode(message as never, bytes);
          } catch {
            generic = 'error';
          }
          const names = new RegExp(`^${message.name}(\\.\\w+)?: |^Message \\d+\\.recipientChannel: `);
          expectValueOrProtocolError(() => void expect((fast as (p: Uint8Array) => unknown)(bytes)).toEqual(generic), names);
          if (generic === 'error') expect(() => (fast as (p: Uint8Array) => unknown)(bytes)).toThrow();
        }),
        propertyParameters(300),
      );
    }
  });

  it('readRecipientChannel reads offset 1 or names the message number', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 10 }), (bytes) =>
        expectValueOrProtocolError(() => {
          expect(connection.readRecipientChannel(bytes)).toBe(new DataView(bytes.buffer).getUint32(1));
        }, /^Message \d+\.recipientChannel: .*offset 1/),
      ),
      propertyParameters(),
    );
  });

  it('session requests decode by type, and terminal modes round-trip', () => {
    const modes = fc.dictionary(fc.integer({ min: 1, max: 159 }).map(String), uint32, { maxKeys: 10 });
    fc.assert(
      fc.property(modes, (m) => {
        const decoded = requests.decodeTerminalModes(requests.encodeTerminalModes(m as never));
        expect(Object.fromEntries(Object.entries(decoded).map(([k, v]) => [k, v]))).toEqual(m);
      }),
      propertyParameters(),
    );
    const types = Object.values(requests.SessionRequestType);
    fc.assert(
      fc.property(fc.constantFrom(...types, 'unknown@example.com'), fc.uint8Array({ maxLength: 60 }), (type, data) =>
        expectValueOrProtocolError(() => requests.decodeSessionRequest(type, data), /^(ChannelRequest\(.+\)(\.\w+)?: .*offset \d+|Terminal mode \d+ truncated at offset \d+)/),
      ),
      propertyParameters(400),
    );
  });

  it('keyboard-interactive, password and publickey fields round-trip and refuse bad bytes by name', () => {
    const prompts = fc.array(fc.record({ prompt: text, echo: fc.boolean() }), { maxLength: 5 });
    const infoRequest = fc.record({ name: text, instruction: text, languageTag: text, prompts });
    fc.assert(
      fc.property(infoRequest, (request) => void expect(keyboard.decodeUserauthInfoRequest(keyboard.encodeUserauthInfoRequest(request))).toEqual(request)),
      propertyParameters(),
    );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 6 }), (responses) =>
        void expect(keyboard.decodeUserauthInfoResponse(keyboard.encodeUserauthInfoResponse(responses))).toEqual(responses),
      ),
      propertyParameters(),
    );
    const fields = fc.record({ languageTag: text, submethods: fc.array(name, { maxLength: 4 }) });
    fc.assert(
      fc.property(fields, (f) => void expect(keyboard.decodeKeyboardInteractiveFields(keyboard.encodeKeyboardInteractiveFields(f))).toEqual(f)),
      propertyParameters(),
    );
    const password = fc.record({ password: text, newPassword: fc.option(text, { nil: undefined }) });
    fc.assert(
      fc.property(password, (p) => void expect(decodePasswordFields(encodePasswordFields(p))).toEqual(p)),
      propertyParameters(),
    );
    const methods = ['publickey', 'publickey-hostbound-v00@openssh.com'];
    const publicKey = fc.record({
      algorithm: name,
      publicKeyBlob: blob,
      hostKeyBlob: blob,
      signature: fc.option(blob, { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.constantFrom(...methods), publicKey, (method, f) => {
        const value = { ...f, hostKeyBlob: method === methods[1] ? f.hostKeyBlob : undefined };
        expect(decodePublicKeyFields(method, encodePublicKeyFields(method, value))).toEqual(value);
      }),
      propertyParameters(),
    );

    const encodedRequests = infoRequest.map((r) => keyboard.encodeUserauthInfoRequest(r));
    fc.assert(
      fc.property(fc.constantFrom(...methods), hostileBytes(keyboard.UserauthInfoRequestType, encodedRequests), (method, bytes) => {
        expectValueOrProtocolError(() => keyboard.decodeUserauthInfoRequest(bytes), /^(Expected UserauthInfoRequest \(60\)|UserauthInfoRequest(\.\w+)?: .*offset \d+)/);
        const response = Uint8Array.from([keyboard.UserauthInfoResponseType, ...bytes.subarray(1)]);
        expectValueOrProtocolError(() => keyboard.decodeUserauthInfoResponse(response), /^UserauthInfoResponse(\.\w+)?: .*offset \d+/);
        expectValueOrProtocolError(() => keyboard.decodeKeyboardInteractiveFields(bytes), /^UserauthRequest\(keyboard-interactive\): .*offset \d+/);
        expectValueOrProtocolError(() => decodePasswordFields(bytes), /^UserauthRequest\(password\): .*offset \d+/);
        expectValueOrProtocolError(() => decodePublicKeyFields(method, bytes), /^UserauthRequest\(publickey.*\): .*offset \d+/);
      }),
      propertyParameters(400),
    );
  });

  it('EXT_INFO round-trips and refuses bad bytes with an offset', () => {
    const extensions = fc.uniqueArray(fc.tuple(name, text), { selector: ([k]) => k, maxLength: 5 }).map((e) => new Map(e));
    fc.assert(
      fc.property(extensions, (e) => void expect(decodeExtInfo(encodeExtInfo(e))).toEqual(e)),
      propertyParameters(),
    );
    fc.assert(
      fc.property(hostileBytes(7, extensions.map(encodeExtInfo)), (bytes) => expectValueOrProtocolError(() => decodeExtInfo(bytes), /^ExtInfo: .*offset \d+/)),
      propertyParameters(300),
    );
  });
});
