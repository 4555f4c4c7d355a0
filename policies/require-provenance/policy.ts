// require-provenance
// Rule: "Every image was built by a trusted builder from a trusted source." The engine gathers the image's verified
// SLSA provenance attestations (src/signatures, at the digest the review resolved); this check reads them
// (provenance.ts) and matches builder id, source repository and ref (evaluate.ts).
import type { CheckInput, Finding, Policy } from '../../src/engine/types.js';
import { precheckAttestation, type AttestationWording } from '../attestation-findings.js';
import { ruleSites } from '../require-signed-images/params.js';
import { evaluateProvenance } from './evaluate.js';
import { PROVENANCE_DEFAULTS, PROVENANCE_PARAMS_SCHEMA, provenanceProblems, type ProvenanceParams } from './params.js';

export type { ProvenanceParams } from './params.js';

const ID = 'require-provenance';
const WORDING: AttestationWording = { policy: ID, what: 'SLSA provenance', attest: 'your build system\'s SLSA provenance, or cosign attest --type slsaprovenance1' };

const FIX: Record<string, string> = {
  BUILDER_NOT_ALLOWED: 'build the image with an allowed builder, or add its id to policies.require-provenance.builderIds',
  SOURCE_NOT_ALLOWED: 'build from an allowed repository, or widen policies.require-provenance.sourceRepository',
  REF_NOT_ALLOWED: 'build from an allowed ref (e.g. the release branch or a tag), or widen policies.require-provenance.sourceRef',
  PROVENANCE_UNREADABLE: 'attest SLSA provenance v1 or v0.2 naming the builder and the source',
};

// Checks that every container's image has verified provenance from an allowed builder and source.
function check({ pod, params, facts }: CheckInput<ProvenanceParams>): Finding[] {
  return pod.containers.flatMap((site): Finding[] => {
    if (params.images.length > 0 && (params.builderIds.length === 0 || params.sourceRepository === '')) {
      return [{ container: site, problem: `cannot check the provenance of "${site.container.image}": builderIds and sourceRepository are not configured`, fix: 'set policies.require-provenance.builderIds and sourceRepository, or set its action: off' }];
    }
    const pre = precheckAttestation(site, params, facts, WORDING);
    if ('findings' in pre) return pre.findings;
    const v = evaluateProvenance(pre.attestations, params);
    if (v.code === 'PROVENANCE_PASSED') return [];
    return [{ container: site, code: v.code, problem: `the SLSA provenance of ${(pre.fact.digest ?? '').slice(0, 19)}… says it was ${v.detail}`, fix: FIX[v.code] ?? FIX.PROVENANCE_UNREADABLE as string }];
  });
}

export const requireProvenance: Policy<ProvenanceParams> = {
  id: ID,
  title: 'Known provenance',
  description: 'Every image carries signed SLSA provenance (v1 or v0.2) from an allowed builder, built from a source repository (and ref) matching the configured globs.',
  severity: 'high',
  category: 'Supply Chain',
  defaultAction: 'off',
  facts: ['attestation'],
  appliesToWindows: true,
  paramsSchema: PROVENANCE_PARAMS_SCHEMA,
  defaults: PROVENANCE_DEFAULTS,
  validateParams: provenanceProblems,
  needsFacts: ruleSites,
  check,
};
