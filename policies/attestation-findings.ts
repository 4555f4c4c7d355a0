// What every attestation policy reports before it reads a predicate: no authorities, an invalid reference, an image
// no rule matches (noMatch), a registry error (onError), look-ups disabled, an attestation that does not verify.

import type { AttestationFact, ContainerSite, Facts, Finding, VerifiedAttestation } from '../src/engine/types.js';
import { matchRule, ruleSubject } from '../src/signatures/params.js';
import type { AttestationParams } from './attestation-params.js';

/** how a policy names what it wants, for messages: "vulnerability scan", "SLSA provenance" */
export interface AttestationWording {
  readonly policy: string;
  readonly what: string;
  /** how to make the attestation, e.g. "cosign attest --type vuln --predicate scan.json" */
  readonly attest: string;
}

/** Findings to report as they are, or the verified attestations to read. */
export type Precheck = { readonly findings: Finding[] } | { readonly attestations: readonly VerifiedAttestation[]; readonly fact: AttestationFact };

// Checks everything about one container's attestation fact except the predicate's content.
export function precheckAttestation(site: ContainerSite, params: AttestationParams, facts: Facts, w: AttestationWording): Precheck {
  const image = site.container.image;
  const one = (problem: string, fix: string, code?: string): Precheck => ({ findings: [{ container: site, problem, fix, ...(code ? { code } : {}) }] });
  if (params.images.length === 0) return one(`cannot check the ${w.what} of "${image}": no attestation authorities are configured`, `configure policies.${w.policy}.authorities and images, or set its action: off`);
  if (ruleSubject(image) === undefined) return one(`cannot check the ${w.what} of "${image}": not a valid image reference`, 'use an image reference of the form registry/repository[:tag]@sha256:<digest>');
  if (!matchRule(params, image)) {
    if (params.noMatch === 'allow') return { findings: [] };
    return one(`"${image}" matches no image pattern with attestation authorities (noMatch: deny)`, `add an images rule for it in policies.${w.policy}, or set noMatch: allow`);
  }
  const fact = facts.attestation(w.policy, image);
  switch (fact.status) {
    case 'verified':
      return { attestations: fact.attestations, fact };
    case 'error':
      if (params.onError === 'allow') return { findings: [] };
      return one(fact.message, `retry when the registry answers, or set policies.${w.policy}.onError: allow`, fact.code);
    case 'unavailable':
      return one(`cannot check the ${w.what} of "${image}": ${fact.message}`, `enable registry look-ups (registry.enabled: true), or set policies.${w.policy}.action: off`);
    default:
      return one(fact.message, fixFor(fact, w), fact.code);
  }
}

// How to fix an attestation that does not verify, by its code.
function fixFor(fact: AttestationFact, w: AttestationWording): string {
  switch (fact.code) {
    case 'UNTRUSTED_SIGNER':
      return `attest with a key or identity of the rule's authorities (${w.attest}), or add its signer as an authority`;
    case 'KEY_MISMATCH':
      return `attest with the key of the rule's authorities (${w.attest}), or add the signer's key as an authority; if that key made it, the envelope was altered: attest again`;
    case 'SIGNATURE_INVALID':
      return `the attestation was changed after it was signed: attest again (${w.attest}) and find who rewrote it`;
    case 'OTHER_DIGEST':
      return `attest this image's digest (${w.attest} on image@sha256:…), not another image's`;
    case 'WRONG_PREDICATE_TYPE':
      return `attest with a configured predicate type (${w.attest}), or add the type to policies.${w.policy}.predicateTypes`;
    default:
      return `attest the image digest (${w.attest})`;
  }
}
