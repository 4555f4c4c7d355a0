// AdmissionReview decode and encode: the API server's JSON converted once into an AdmissionRequest.
import type { Operation } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import { describe, isObject } from '../workload/k8s.js';
import type { PatchOperation } from './patch.js';
import { PortcullisError } from '../errors.js';

export type AdmissionErrorCode = 'NOT_ADMISSION_REVIEW' | 'UNSUPPORTED_VERSION' | 'MISSING_REQUEST' | 'MISSING_UID' | 'INVALID_FIELD';

export class AdmissionError extends PortcullisError<AdmissionErrorCode> {}

export const SUPPORTED_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type ReviewVersion = (typeof SUPPORTED_VERSIONS)[number];
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface AdmissionRequest {
  readonly apiVersion: ReviewVersion;
  readonly uid: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly operation: Operation;
  readonly username?: string;
  readonly dryRun: boolean;
  readonly object: unknown;
  readonly oldObject?: unknown;
}

function str(obj: Record<string, unknown>, key: string, path: string, required: boolean): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') {
    if (required) throw new AdmissionError('INVALID_FIELD', `${path}.${key}: expected a string, got ${describe(value)}`);
    return undefined;
  }
  if (typeof value !== 'string') throw new AdmissionError('INVALID_FIELD', `${path}.${key}: expected a string, got ${describe(value)}`);
  return value;
}

// Decodes a parsed body into an AdmissionRequest; throws AdmissionError naming what is missing or wrong.
export function decodeReview(body: unknown): AdmissionRequest {
  if (!isObject(body) || body.kind !== 'AdmissionReview') {
    throw new AdmissionError('NOT_ADMISSION_REVIEW', `expected kind AdmissionReview, got ${isObject(body) ? JSON.stringify(body.kind ?? null) : describe(body)}`);
  }
  const apiVersion = body.apiVersion;
  if (typeof apiVersion !== 'string' || !(SUPPORTED_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw new AdmissionError('UNSUPPORTED_VERSION', `expected apiVersion admission.k8s.io/v1, got ${JSON.stringify(apiVersion ?? null)}`);
  }
  const request = body.request;
  if (!isObject(request)) throw new AdmissionError('MISSING_REQUEST', `request: expected an object, got ${describe(request)}`);
  if (typeof request.uid !== 'string' || request.uid === '') {
    throw new AdmissionError('MISSING_UID', `request.uid: expected a non-empty string, got ${describe(request.uid)}`);
  }
  const kind = request.kind;
  if (!isObject(kind)) throw new AdmissionError('INVALID_FIELD', `request.kind: expected an object, got ${describe(kind)}`);
  const operation = request.operation;
  if (typeof operation !== 'string' || !(OPERATIONS as readonly string[]).includes(operation)) {
    throw new AdmissionError('INVALID_FIELD', `request.operation: expected one of ${OPERATIONS.join(', ')}, got ${JSON.stringify(operation ?? null)}`);
  }
  const resource = isObject(request.resource) ? request.resource : {};
  const userInfo = isObject(request.userInfo) ? request.userInfo : {};
  if (request.dryRun !== undefined && request.dryRun !== null && typeof request.dryRun !== 'boolean') {
    throw new AdmissionError('INVALID_FIELD', `request.dryRun: expected a boolean, got ${describe(request.dryRun)}`);
  }
  const subresource = str(request, 'subResource', 'request', false);
  const namespace = str(request, 'namespace', 'request', false);
  const name = str(request, 'name', 'request', false);
  const username = str(userInfo, 'username', 'request.userInfo', false);
  const resourceName = str(resource, 'resource', 'request.resource', false);
  return {
    apiVersion: apiVersion as ReviewVersion,
    uid: request.uid,
    group: str(kind, 'group', 'request.kind', false) ?? '',
    version: str(kind, 'version', 'request.kind', false) ?? '',
    kind: str(kind, 'kind', 'request.kind', true) as string,
    resource: resourceName ?? '',
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    operation: operation as Operation,
    ...(username ? { username } : {}),
    dryRun: request.dryRun === true,
    object: request.object ?? null,
    ...(request.oldObject !== undefined && request.oldObject !== null ? { oldObject: request.oldObject } : {}),
  };
}

export interface AdmissionResponseReview {
  apiVersion: ReviewVersion;
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
    patchType?: 'JSONPatch';
    patch?: string;
  };
}

const MAX_WARNINGS = 50;

// Encodes a decision as the AdmissionReview answer: same apiVersion, the request's uid.
export function encodeReview(request: Pick<AdmissionRequest, 'apiVersion' | 'uid'>, decision: Decision): AdmissionResponseReview {
  const response: AdmissionResponseReview['response'] = { uid: request.uid, allowed: decision.allowed };
  if (!decision.allowed) response.status = { code: 403, reason: 'Forbidden', message: decision.message ?? 'denied by portcullis' };
  if (decision.warnings.length > 0) response.warnings = decision.warnings.slice(0, MAX_WARNINGS);
  if (Object.keys(decision.auditAnnotations).length > 0) response.auditAnnotations = { ...decision.auditAnnotations };
  return { apiVersion: request.apiVersion, kind: 'AdmissionReview', response };
}

// Encodes the mutating webhook's answer: always allowed, with a base64 JSON Patch when there is one.
export function encodeMutation(request: Pick<AdmissionRequest, 'apiVersion' | 'uid'>, patch: readonly PatchOperation[], warnings: readonly string[]): AdmissionResponseReview {
  const response: AdmissionResponseReview['response'] = { uid: request.uid, allowed: true };
  if (patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  if (warnings.length > 0) response.warnings = warnings.slice(0, MAX_WARNINGS);
  return { apiVersion: request.apiVersion, kind: 'AdmissionReview', response };
}
