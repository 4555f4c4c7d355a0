import { describe, expect, it } from 'vitest';
import { decodeReview, encodeReview } from './review.js';
import { objectOf, reviewOf, compliantSpec, KINDS } from '../../test/helpers/pods.js';
import { decide } from '../engine/decision.js';

const valid = () => reviewOf(objectOf(KINDS[0]!, compliantSpec()));

describe('decodeReview', () => {
  it('decodes a v1 review', () => {
    const req = decodeReview(valid());
    expect(req).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod', group: '', operation: 'CREATE', namespace: 'default', dryRun: false });
  });

  it.each([
    ['not an object', 'x', 'NOT_ADMISSION_REVIEW'],
    ['wrong kind', { ...valid(), kind: 'Pod' }, 'NOT_ADMISSION_REVIEW'],
    ['wrong apiVersion', { ...valid(), apiVersion: 'admission.k8s.io/v2' }, 'UNSUPPORTED_VERSION'],
    ['no request', { ...valid(), request: undefined }, 'MISSING_REQUEST'],
    ['no uid', { ...valid(), request: { ...valid().request, uid: undefined } }, 'MISSING_UID'],
    ['numeric uid', { ...valid(), request: { ...valid().request, uid: 7 } }, 'MISSING_UID'],
    ['bad operation', { ...valid(), request: { ...valid().request, operation: 'PATCH' } }, 'INVALID_FIELD'],
    ['kind not an object', { ...valid(), request: { ...valid().request, kind: 'Pod' } }, 'INVALID_FIELD'],
    ['dryRun not a boolean', { ...valid(), request: { ...valid().request, dryRun: 'true' } }, 'INVALID_FIELD'],
  ])('rejects %s', (_name, body, code) => {
    expect(() => decodeReview(body)).toThrowError(expect.objectContaining({ code }));
  });
});

describe('encodeReview', () => {
  it('answers with the same apiVersion and uid, 403 and the message when denied', () => {
    const decision = decide([
      { policy: 'p', effect: 'deny', wouldDeny: false, preexisting: false, problem: 'x', fix: 'y', message: '[p] pod: x — y' },
    ]);
    const out = encodeReview({ apiVersion: 'admission.k8s.io/v1beta1', uid: 'abc' }, decision);
    expect(out).toEqual({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: { uid: 'abc', allowed: false, status: { code: 403, reason: 'Forbidden', message: '[p] pod: x — y' }, auditAnnotations: { p: '[p] pod: x — y', decision: 'deny' } },
    });
  });
});
