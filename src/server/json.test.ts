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
  extra: fc.jsonValue({ maxDepth: 3 }),
  managed: fc.jsonValue({ maxDepth: 4 }).map((v) => [v, { manager: 'kubectl', fieldsV1: { 'f:spec': { 'k:{"name":"a]}"}': {} } } }]),
  oldManaged: fc.option(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 })),
  annotation: fc.string(),
  indent: fc.constantFrom(0, 2),
});

describe('scanJson', () => {
  it('agrees with the parsed depth, strings with quotes, brackets and backslashes included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        expect(scanJson(text, 1000).depth).toBe(parsedDepth(value));
      }),
      { numRuns: 2000 },
    );
    expect(scanJson(JSON.stringify({ a: '{[\\"]}', b: ['\\\\', { c: '"' }] }), 100).depth).toBe(3);
  });

  it('stops once past the limit, counting inside managedFields too', () => {
    expect(scanJson('['.repeat(10_000), 128).depth).toBe(129);
    const deep = `{"request":{"object":{"metadata":{"managedFields":${'['.repeat(200)}${']'.repeat(200)}}}}}`;
    expect(scanJson(deep, 128).depth).toBe(129);
    expect(() => parseJsonBody(deep)).toThrow(BodyError);
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
    expect(scanJson(text, 100).skip).toEqual([]);
    expect(parseJsonBody(text)).toEqual(JSON.parse(text));
  });

  it('does not take a string value or an escaped key for the managedFields key', () => {
    const text = '{"request":{"object":{"metadata":{"x":"managedFields","manag\\u0065dFields":[1],"y":["managedFields"]}}}}';
    expect(scanJson(text, 100).skip).toEqual([]);
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
        expect(parseJsonBody(text)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects invalid JSON outside the skipped ranges with INVALID_JSON', () => {
    const bad = '{"request":{"object":{"metadata":{"managedFields":[{}]}},"x":}}';
    expect(() => parseJsonBody(bad)).toThrow(expect.objectContaining({ code: 'INVALID_JSON' }));
    expect(() => parseJsonBody('{"request":"unterminated')).toThrow(expect.objectContaining({ code: 'INVALID_JSON' }));
    // the message names the position in the body as sent, not in the body without managedFields
    const body = '{"request":{"object":{"metadata":{"managedFields":[{"f:spec":{}}]}},"x":}}';
    let direct = '';
    try {
      JSON.parse(body);
    } catch (err) {
      direct = (err as Error).message;
    }
    expect(() => parseJsonBody(body)).toThrow(direct);
  });
});
