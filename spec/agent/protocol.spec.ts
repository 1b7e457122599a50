/**
 * The agent protocol core (draft-miller-ssh-agent): frames survive any chunking, garbage and
 * oversized frames end in an AgentError, and every decoder turns truncated or trailing input
 * into an AgentError naming the message.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AgentError } from '../../lib/agent/agent-error.js';
import {
  AgentFramer,
  AgentMessage,
  decodeIdentitiesAnswer,
  decodeSignRequest,
  decodeSignResponse,
  encodeIdentitiesAnswer,
  encodeSignRequest,
  encodeSignResponse,
  frameAgentMessage,
} from '../../lib/agent/protocol.js';

const frames = fc.array(
  fc.record({ type: fc.integer({ min: 0, max: 255 }), contents: fc.uint8Array({ maxLength: 300 }) }),
  { maxLength: 8 },
);

describe('AgentFramer', () => {
  it('yields the same messages however the stream is cut', () => {
    fc.assert(
      fc.property(frames, fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }), (messages, cuts) => {
        const stream = messages.map((m) => frameAgentMessage(m.type, m.contents));
        const all = new Uint8Array(stream.reduce((n, f) => n + f.length, 0));
        let at = 0;
        for (const f of stream) {
          all.set(f, at);
          at += f.length;
        }
        const framer = new AgentFramer();
        const out: Uint8Array[] = [];
        let offset = 0;
        for (let i = 0; offset < all.length; i++) {
          const size = cuts[i % cuts.length]!;
          out.push(...framer.push(all.subarray(offset, offset + size)));
          offset += size;
        }
        expect(out).toEqual(messages.map((m) => Uint8Array.of(m.type, ...m.contents)));
        expect(framer.hasPartial).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('turns garbage into messages or an AgentError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        try {
          new AgentFramer(1024).push(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(AgentError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an oversized or empty frame at its header, before buffering it', () => {
    expect(() => new AgentFramer().push(Uint8Array.of(0x7f, 0xff, 0xff, 0xff))).toThrow(/Agent message of 2147483647 bytes is outside 1\.\.262144/);
    expect(() => new AgentFramer().push(Uint8Array.of(0, 0, 0, 0))).toThrow(/Agent message of 0 bytes/);
  });
});

describe('agent message decoders', () => {
  it('round-trip identities answers, sign requests and sign responses', () => {
    const identities = [
      { blob: Uint8Array.of(1, 2, 3), comment: 'one' },
      { blob: Uint8Array.of(), comment: 'two ✓' },
    ];
    expect(decodeIdentitiesAnswer(unframe(encodeIdentitiesAnswer(identities)))).toEqual(identities);
    const request = { blob: Uint8Array.of(9), data: Uint8Array.of(8, 7), flags: 4 };
    expect(decodeSignRequest(unframe(encodeSignRequest(request)))).toEqual(request);
    expect(decodeSignResponse(unframe(encodeSignResponse(Uint8Array.of(5, 5))))).toEqual(Uint8Array.of(5, 5));
  });

  it('reject failure answers, wrong types, truncation, trailing bytes and absurd counts with an AgentError', () => {
    expect(() => decodeIdentitiesAnswer(Uint8Array.of(AgentMessage.failure))).toThrow(/Agent answered SSH_AGENT_FAILURE where a identities answer \(12\)/);
    expect(() => decodeSignResponse(Uint8Array.of(AgentMessage.identitiesAnswer))).toThrow(AgentError);
    const answer = unframe(encodeIdentitiesAnswer([{ blob: Uint8Array.of(1), comment: 'c' }]));
    expect(() => decodeIdentitiesAnswer(answer.subarray(0, answer.length - 1))).toThrow(/Malformed agent identities answer: .*unexpected end/);
    expect(() => decodeIdentitiesAnswer(Uint8Array.of(...answer, 0))).toThrow(/Malformed agent identities answer: 1 trailing bytes at offset 15/);
    expect(() => decodeIdentitiesAnswer(Uint8Array.of(12, 0xff, 0xff, 0xff, 0xff))).toThrow(/lists 4294967295 identities/);
  });

  it('decode any bytes to a value or an AgentError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
        for (const [type, decode] of [
          [AgentMessage.identitiesAnswer, decodeIdentitiesAnswer],
          [AgentMessage.signRequest, decodeSignRequest],
          [AgentMessage.signResponse, decodeSignResponse],
        ] as const) {
          try {
            decode(Uint8Array.of(type, ...body));
          } catch (error) {
            expect(error).toBeInstanceOf(AgentError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

function unframe(frame: Uint8Array): Uint8Array {
  return frame.subarray(4);
}
