// SLSA provenance predicates read into one shape. Fields read:
//   v1 (https://slsa.dev/provenance/v1): runDetails.builder.id; the source from
//     buildDefinition.externalParameters.workflow.{repository, ref} (GitHub Actions), else
//     buildDefinition.externalParameters.source.{uri, ref}, else the first buildDefinition.resolvedDependencies[].uri;
//   v0.2 (https://slsa.dev/provenance/v0.2): builder.id; the source from invocation.configSource.uri, else the first
//     materials[].uri.
// A source URI like git+https://github.com/org/app@refs/heads/main gives repository github.com/org/app and ref
// refs/heads/main.
import { isObject } from '../../src/workload/k8s.js';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';

export interface Provenance {
  readonly builderId: string;
  /** host/path without scheme or .git: github.com/org/app ('' when the predicate names none) */
  readonly repository: string;
  /** refs/heads/main, refs/tags/v1.2.0 ('' when the predicate names none) */
  readonly ref: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), v);

// A repository URL or git URI as host/path: git+https://github.com/org/app.git@refs/x -> github.com/org/app.
export function normalizeRepository(uri: string): { repository: string; ref: string } {
  const noScheme = uri.replace(/^git\+/, '').replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^git@([^:]+):/, '$1/');
  const atRef = noScheme.indexOf('@');
  const repo = atRef >= 0 ? noScheme.slice(0, atRef) : noScheme;
  const ref = atRef >= 0 ? noScheme.slice(atRef + 1) : '';
  return { repository: repo.replace(/\.git$/, '').replace(/\/+$/, ''), ref };
}

function firstUri(list: unknown): string {
  return Array.isArray(list) ? str(list.filter(isObject).map((m) => m.uri).find((u) => typeof u === 'string')) : '';
}

function readV1(p: Record<string, unknown>): Provenance {
  const builderId = str(at(p, 'runDetails', 'builder', 'id'));
  const wf = at(p, 'buildDefinition', 'externalParameters', 'workflow');
  if (isObject(wf) && typeof wf.repository === 'string') return { builderId, repository: normalizeRepository(wf.repository).repository, ref: str(wf.ref) };
  const src = at(p, 'buildDefinition', 'externalParameters', 'source');
  const uri = isObject(src) ? str(src.uri) : typeof src === 'string' ? src : firstUri(at(p, 'buildDefinition', 'resolvedDependencies'));
  const n = normalizeRepository(uri);
  return { builderId, repository: n.repository, ref: (isObject(src) && str(src.ref)) || n.ref };
}

function readV02(p: Record<string, unknown>): Provenance {
  const uri = str(at(p, 'invocation', 'configSource', 'uri')) || firstUri(p.materials);
  return { builderId: str(at(p, 'builder', 'id')), ...normalizeRepository(uri) };
}

// Reads a SLSA provenance predicate of the given type; a string says why it cannot be read.
export function readProvenance(predicateType: string, predicate: unknown): Provenance | string {
  if (!isObject(predicate)) return 'the predicate is not a JSON object';
  const p = predicateType === SLSA_V02 || (predicateType !== SLSA_V1 && isObject(predicate.builder)) ? readV02(predicate) : readV1(predicate);
  if (p.builderId === '') return 'the provenance names no builder id';
  return p;
}
