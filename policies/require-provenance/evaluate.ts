// Judges the verified provenance of one image: some attestation must name an allowed builder and a source
// repository (and ref, when configured) matching the globs.
import type { VerifiedAttestation } from '../../src/engine/types.js';
import { matchesAny } from '../../src/engine/globs.js';
import type { ProvenanceParams } from './params.js';
import { readProvenance, type Provenance } from './provenance.js';

export type ProvenanceCode = 'PROVENANCE_PASSED' | 'PROVENANCE_UNREADABLE' | 'BUILDER_NOT_ALLOWED' | 'SOURCE_NOT_ALLOWED' | 'REF_NOT_ALLOWED';

export interface ProvenanceVerdict {
  readonly code: ProvenanceCode;
  readonly provenance?: Provenance;
  readonly detail: string;
}

// Why one provenance does not satisfy the params, or PROVENANCE_PASSED.
function judgeOne(p: Provenance, params: ProvenanceParams): ProvenanceVerdict {
  if (!params.builderIds.includes(p.builderId) && !matchesAny(params.builderIds, p.builderId)) {
    return { code: 'BUILDER_NOT_ALLOWED', provenance: p, detail: `built by ${JSON.stringify(p.builderId.slice(0, 200))}, not an allowed builder` };
  }
  if (p.repository === '' || !matchesAny([params.sourceRepository], p.repository)) {
    return { code: 'SOURCE_NOT_ALLOWED', provenance: p, detail: `built from ${JSON.stringify(p.repository.slice(0, 200) || 'no named source')}, not a repository matching ${JSON.stringify(params.sourceRepository)}` };
  }
  if (params.sourceRef !== '' && !matchesAny([params.sourceRef], p.ref)) {
    return { code: 'REF_NOT_ALLOWED', provenance: p, detail: `built from ref ${JSON.stringify(p.ref.slice(0, 200) || 'none')}, not one matching ${JSON.stringify(params.sourceRef)}` };
  }
  return { code: 'PROVENANCE_PASSED', provenance: p, detail: `built by ${p.builderId} from ${p.repository}${p.ref ? `@${p.ref}` : ''}` };
}

const ORDER: readonly ProvenanceCode[] = ['PROVENANCE_PASSED', 'REF_NOT_ALLOWED', 'SOURCE_NOT_ALLOWED', 'BUILDER_NOT_ALLOWED', 'PROVENANCE_UNREADABLE'];

// The best verdict over every verified provenance attestation: one that passes, else the closest miss.
export function evaluateProvenance(attestations: readonly VerifiedAttestation[], params: ProvenanceParams): ProvenanceVerdict {
  let best: ProvenanceVerdict = { code: 'PROVENANCE_UNREADABLE', detail: 'no verified provenance' };
  for (const a of attestations) {
    const p = readProvenance(a.predicateType, a.predicate);
    const v: ProvenanceVerdict = typeof p === 'string' ? { code: 'PROVENANCE_UNREADABLE', detail: `${a.where}: ${p}` } : judgeOne(p, params);
    if (ORDER.indexOf(v.code) < ORDER.indexOf(best.code)) best = v;
  }
  return best;
}
