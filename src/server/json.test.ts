import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyError, parseJsonBody, scanJson } from './json.js';

// The depth as JSON.parse sees it, for comparison.
function parsedDepth(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(parsedDepth));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(parsedDepth));
  return 0;
}

// A review whose object and oldObject carry managedFields, with arbitrary JSON around and inside them.
const reviewArb = fc.record({
  extra: fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
  managed: fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }).map((v) => [v, { manager: 'kubectl', fieldsV1: { 'f:spec': { 'k:{"name":"a]}"}': {} } } }]),
  oldManaged: fc.option(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 })),
  annotation: fc.string({ unit: 'grapheme' }),
  indent: fc.constantFrom(0, 2),
});

describe('scanJson', () => {
  it('records at most seven ranges: a managedFields beyond them is parsed, not lost', () => {
    const objects = Array.from({ length: 9 }, (_, i) => `"object":{"metadata":{"managedFields":[${i}]}}`).join(',');
    const text = `{"request":{${objects}}}`;
    expect(scanJson(Buffer.from(text), 100).skip).toHaveLength(14);
    expect(parseJsonBody(Buffer.from(text))).toEqual(JSON.parse(text.replace(/\[\d\]/g, (m) => (m === '[8]' ? m : '[]'))));
  });

  it('agrees with the parsed depth, strings with quotes, brackets and backslashes included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8, stringUnit: 'binary' }), (value) => {
        const text = JSON.stringify(value);
        expect(scanJson(Buffer.from(text), 1000).depth).toBe(parsedDepth(value));
      }),
      { numRuns: 2000 },
    );
    expect(scanJson(Buffer.from(JSON.stringify({ a: '{[\\"]}', b: ['\\\\', { c: '"' }] })), 100).depth).toBe(3);
  });

  it('stops once past the limit, counting inside managedFields too', () => {
    expect(scanJson(Buffer.from('['.repeat(10_000)), 128).depth).toBe(129);
    const deep = `{"request":{"object":{"metadata":{"managedFields":${'['.repeat(200)}${']'.repeat(200)}}}}}`;
    expect(scanJson(Buffer.from(deep), 128).depth).toBe(129);
    expect(() => parseJsonBody(Buffer.from(deep))).toThrow(BodyError);
  });

  it('skips nothing outside request.object/oldObject.metadata.managedFields', () => {
    const text = JSON.stringify({
      managedFields: [1],
      request: {
        managedFields: [2],
        metadata: { managedFields: [3] },
        object: { spec: { managedFields: [4] }, metadata: { annotations: { managedFields: '[5]' }, name: 'managedFields' } },
        options: { metadata: { managedFields: [6] } },
      },
    });
    expect(scanJson(Buffer.from(text), 100).skip).toEqual([]);
    expect(parseJsonBody(Buffer.from(text))).toEqual(JSON.parse(text));
  });

  it('does not take a string value or an escaped key for the managedFields key', () => {
    const text = '{"request":{"object":{"metadata":{"x":"managedFields","manag\\u0065dFields":[1],"y":["managedFields"]}}}}';
    expect(scanJson(Buffer.from(text), 100).skip).toEqual([]);
  });

  it('finds the byte range of managedFields after multi-byte characters, and keeps them', () => {
    const text = '{"request":{"object":{"metadata":{"name":"café-☃-🚀","managedFields":[{"f:ünïcode":"\\"]"}],"a":"ж"}}}}';
    const bytes = Buffer.from(text);
    const [from, to] = scanJson(bytes, 100).skip;
    expect(bytes.subarray(from, to).toString()).toBe('[{"f:ünïcode":"\\"]"}]');
    expect(parseJsonBody(bytes)).toEqual({ request: { object: { metadata: { name: 'café-☃-🚀', managedFields: [], a: 'ж' } } } });
  });
});

describe('parseJsonBody', () => {
  it('parses like JSON.parse, with the review objects\' managedFields left empty', () => {
    fc.assert(
      fc.property(reviewArb, ({ extra, managed, oldManaged, annotation, indent }) => {
        const review = {
          kind: 'AdmissionReview',
          extra,
          request: {
            uid: 'u',
            object: { metadata: { name: 'p', annotations: { a: annotation }, managedFields: managed }, spec: { extra } },
            ...(oldManaged ? { oldObject: { metadata: { managedFields: oldManaged, name: 'p' } } } : {}),
          },
        };
        const text = JSON.stringify(review, null, indent);
        const expected = JSON.parse(text) as typeof review;
        expected.request.object.metadata.managedFields = [];
        if (expected.request.oldObject) expected.request.oldObject.metadata.managedFields = [];
        expect(parseJsonBody(Buffer.from(text))).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects invalid JSON outside the skipped ranges with INVALID_JSON', () => {
    const bad = '{"request":{"object":{"metadata":{"managedFields":[{}]}},"x":}}';
    expect(() => parseJsonBody(Buffer.from(bad))).toThrow(expect.objectContaining({ code: 'INVALID_JSON' }));
    expect(() => parseJsonBody(Buffer.from('{"request":"unterminated'))).toThrow(expect.objectContaining({ code: 'INVALID_JSON' }));
    // the message names the position in the body as sent, not in the body without managedFields
    const body = '{"request":{"object":{"metadata":{"managedFields":[{"f:spec":{}}]}},"x":}}';
    let direct = '';
    try {
      JSON.parse(body);
    } catch (err) {
      direct = (err as Error).message;
    }
    expect(() => parseJsonBody(Buffer.from(body))).toThrow(direct);
  });
});
