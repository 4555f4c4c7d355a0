// require-signed-images: the denial text for each signature code — what is wrong, from the fact's detail, and how
// to fix it, by the code.
import type { SignatureCode, SignatureFact } from '../../src/engine/types.js';

const P = 'policies.require-signed-images';
const SIGN = 'sign the image digest with a trusted key or identity (cosign sign), or add its signer as an authority';
const RETRY = `check that the registry answers portcullis (network, credentials) and retry, or set ${P}.onError: allow`;

/** How to fix what each code says is wrong. */
export const FIX: Readonly<Record<SignatureCode, string>> = {
  VERIFIED: SIGN,
  NO_RULE_ALLOWED: SIGN,
  NOT_CONFIGURED: `configure ${P}.authorities and images, or set its action: off`,
  NO_RULE: `add an images rule for it in ${P}, or set noMatch: allow`,
  INVALID_REFERENCE: 'use an image reference of the form registry/repository[:tag]@sha256:<digest>',
  CONFIG_INVALID: `correct the authorities and images of ${P}, or set its action: off`,
  NOT_FOUND: SIGN,
  UNTRUSTED_SIGNER: `sign the image digest with a key or identity of the rule's authorities (cosign sign), or add its signer as an authority in ${P}`,
  KEY_MISMATCH: "sign the image digest with the authority's key (cosign sign --key), or add the signer's key as an authority; if that key signed it, the payload was altered: sign again and find who rewrote it",
  SIGNATURE_INVALID: 're-sign the image digest (cosign sign): the signature found was altered after signing, or its certificate or log entry is not trusted',
  TLOG_MISSING: 'sign with a transparency log upload (cosign sign without --tlog-upload=false), or set ignoreTlog: true on the key authority',
  OTHER_DIGEST: "sign this image's own digest (cosign sign registry/repository@sha256:…): a signature copied from another image never counts",
  WRONG_REFERENCE: 'sign the image under its own registry/repository (cosign sign registry/repository@sha256:…), or drop matchReference from the rule',
  WRONG_PREDICATE_TYPE: 'sign the image (cosign sign): an attestation is not a signature',
  MALFORMED: 'sign the image digest again with cosign: the signatures found cannot be read, or are over the size limits',
  REGISTRY_ERROR: RETRY,
  UNAVAILABLE: `enable registry look-ups (registry.enabled: true), or set ${P}.action: off`,
  CLOSED: `retry (the server was shutting down), or set ${P}.onError: allow`,
};

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

// "registry.example.com/team/app@sha256:3f1c… has no signature from authority "team-key" (found 1: …)"
function notVerified(fact: SignatureFact, image: string): string {
  const subject = fact.image ?? `"${image}"`;
  const failing = fact.authorities ?? [];
  const who = `${failing.length === 1 ? 'authority' : 'authorities'} ${quoted(failing)}`;
  const evidence = fact.evidence ?? [];
  const shown = evidence.slice(0, 3).join('; ') + (evidence.length > 3 ? `; and ${evidence.length - 3} more` : '');
  const need = fact.need ?? 1;
  const verified = fact.verified ?? 0;
  const count = need > 1 || verified > 0 ? `need ${need} of ${failing.length + verified}, verified ${verified}; ` : '';
  return `${subject} has no signature from ${who} (${count}found ${fact.found ?? 0}: ${shown})`;
}

// What is wrong with a container's image, as its signature fact says.
export function problemOf(fact: SignatureFact, image: string): string {
  const cannot = `cannot verify the signature of "${image}"`;
  switch (fact.code) {
    case 'NOT_CONFIGURED':
      return `${cannot}: no signature authorities are configured`;
    case 'NO_RULE':
      return `"${image}" matches no image pattern with signature authorities (noMatch: deny)`;
    case 'INVALID_REFERENCE':
      return `${cannot}: not a valid image reference${fact.reason ? ` (${fact.reason})` : ''}`;
    case 'CONFIG_INVALID':
      return `${cannot}: the signature configuration is invalid: ${fact.reason ?? 'see the server log'}`;
    case 'UNAVAILABLE':
      return `${cannot}: ${fact.reason ?? 'the signature was not looked up'}`;
    case 'CLOSED':
      return `${cannot}: the signature verifier is closed`;
    case 'REGISTRY_ERROR':
      return `cannot check the signatures of ${fact.image ?? `"${image}"`}: ${fact.reason ?? 'registry error'}`;
    case 'NOT_FOUND':
      return `${fact.image ?? `"${image}"`} has no signature (looked for OCI referrers and the ${(fact.digest ?? '').replace(':', '-').slice(0, 19)}….sig tag)`;
    default:
      return notVerified(fact, image);
  }
}
