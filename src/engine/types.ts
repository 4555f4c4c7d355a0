// Small internal types shared by the engine, the policies and their callers.
import type { Container, PodSpec } from '../workload/k8s.js';

export type Action = 'deny' | 'warn' | 'audit' | 'off';
export type Mode = 'enforce' | 'audit';
export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';
/** imageConfig: the config User; signature: a verified signature; digest: what a tag names now (pinning);
 * attestation: verified in-toto attestations (vulnerability scans, provenance) */
export type FactKind = 'imageConfig' | 'signature' | 'digest' | 'attestation';
/** How bad a violation is, as PolicyReports and SARIF show it. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
/** The group a policy belongs to in reports. */
export type Category = 'Pod Security' | 'Supply Chain' | 'Best Practices';
/** A Pod Security Standards profile. */
export type PodSecurityLevel = 'baseline' | 'restricted';

/** One container of a pod spec, with where it sits. */
export interface ContainerSite {
  readonly list: ContainerList;
  readonly index: number;
  readonly name: string;
  readonly container: Container;
}

/** One pod spec found in an object, with the path to it (e.g. "spec.template.spec"). */
export interface PodSite {
  readonly path: string;
  /** the kind of the object that carries the pod spec (Pod, Deployment, Job, ...) */
  readonly kind: string;
  /** the annotations of the Pod or of the pod template */
  readonly annotations: Readonly<Record<string, string>>;
  /** the kinds of the Pod's ownerReferences (a Pod created by a Job names Job) */
  readonly ownerKinds: readonly string[];
  readonly spec: PodSpec;
  readonly containers: readonly ContainerSite[];
  readonly windows: boolean;
}

/** What a check found wrong with one container (or the pod when container is absent). */
export interface Finding {
  readonly container?: ContainerSite;
  /** what is wrong, e.g. "runs as root (runAsUser: 0)" */
  readonly problem: string;
  /** how to fix it, e.g. "set securityContext.runAsUser to a non-zero UID" */
  readonly fix: string;
  /** a warning whatever the policy's action: never denies (e.g. a signature verified through a movable tag) */
  readonly advisory?: boolean;
  /** a typed reason (e.g. SCAN_STALE, UNTRUSTED_SIGNER), for reports and tests */
  readonly code?: string;
}

/** Facts about one image, as gathered by the engine before checks run. */
export type ImageFact =
  | {
      readonly status: 'ok';
      readonly digest: string;
      readonly user: string;
      readonly platform: string;
      /** the image config's Env ("NAME=value"), when gathered */
      readonly env?: readonly string[];
      /** the image config's Labels, when gathered */
      readonly labels?: Readonly<Record<string, string>>;
      /** the compressed size of the platform image (sum of its manifest's layer sizes), when gathered */
      readonly compressedSize?: number;
    }
  | {
      readonly status: 'error';
      /** why, as the registry client's error code (REGISTRY_UNREACHABLE, UNAUTHORIZED, ...): tests and policies read it */
      readonly code?: string;
      readonly message: string;
    }
  | { readonly status: 'unavailable' };

/**
 * Why a signature fact is what it is; the policy renders the message from it (and the detail), tests assert it.
 * VERIFIED: enough authorities verified a signature of the digest. NO_RULE_ALLOWED: no rule matches, noMatch: allow.
 * NOT_CONFIGURED: no image rules. NO_RULE: no rule matches (noMatch: deny). INVALID_REFERENCE: not an image reference.
 * CONFIG_INVALID: the authorities cannot be used (bad key, unreadable trusted root). NOT_FOUND: no signature at all.
 * UNTRUSTED_SIGNER: a valid signature by another identity, or a bundle naming another key. KEY_MISMATCH: a signature
 * that does not verify with the authority's key and names no key: signed by another key, or its payload was altered
 * (an ECDSA signature cannot tell). SIGNATURE_INVALID: it names the authority's key (or a trusted identity) but does not
 * verify: the signed content was altered, or its certificate or log entry is not trusted. TLOG_MISSING: no
 * transparency log entry, which the authority requires. OTHER_DIGEST: a signature of another image (a copied
 * signature, a referrer of another subject). WRONG_REFERENCE: a valid signature naming another repository
 * (matchReference). WRONG_PREDICATE_TYPE: an attestation, not a signature. MALFORMED: unreadable, or over a limit.
 * REGISTRY_ERROR: the registry failed or timed out. UNAVAILABLE: not looked up. CLOSED: the verifier is shutting down.
 */
export type SignatureCode = VerificationCode | 'TLOG_MISSING' | 'WRONG_REFERENCE';

/** A signature verification's answer: a code and the facts a message needs (names, digests, counts; never a secret). */
export interface SignatureFact {
  readonly status: 'verified' | 'unverified' | 'error' | 'unavailable';
  readonly code: SignatureCode;
  /** the image as checked, once its digest is known: registry/repository[:tag]@sha256:ab12… */
  readonly image?: string;
  /** the digest checked */
  readonly digest?: string;
  /** the authorities that verified it (VERIFIED), or the rule's authorities that did not */
  readonly authorities?: readonly string[];
  /** signatures needed from distinct authorities (the rule's count), and how many verified */
  readonly need?: number;
  readonly verified?: number;
  /** signatures found for the digest */
  readonly found?: number;
  /** what the signatures behind the code show (or the one that verified), e.g. "signature over another digest (sha256:9d0e…)" */
  readonly evidence?: readonly string[];
  /** the cause in its source's words: the registry error, the configuration problem, why nothing was looked up */
  readonly reason?: string;
  /** set when a tag-only reference was verified at the digest the tag names now (tags move) */
  readonly verifiedAtTag?: string;
}

/** The digest an image reference names: its own, or the one its tag was resolved to once for the whole review. */
export type DigestFact =
  | { readonly status: 'ok'; readonly digest: string }
  | { readonly status: 'error'; readonly code: string; readonly message: string }
  | { readonly status: 'unavailable' };

/** What a verification of signed material (signatures, attestations) can answer; each fact's doc says what it means. */
export type VerificationCode =
  | 'VERIFIED'
  | 'NOT_CONFIGURED'
  | 'NO_RULE'
  | 'NO_RULE_ALLOWED'
  | 'INVALID_REFERENCE'
  | 'CONFIG_INVALID'
  | 'NOT_FOUND'
  | 'WRONG_PREDICATE_TYPE'
  | 'OTHER_DIGEST'
  | 'UNTRUSTED_SIGNER'
  | 'KEY_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'MALFORMED'
  | 'REGISTRY_ERROR'
  | 'UNAVAILABLE'
  | 'CLOSED';

/** Why an attestation fact is what it is; policies render messages from it, tests assert it. */
export type AttestationCode = VerificationCode;

/** One attestation whose signature an authority verified and whose subject names the image digest. */
export interface VerifiedAttestation {
  readonly predicateType: string;
  /** the statement's predicate, as signed */
  readonly predicate: unknown;
  /** the authority that verified it */
  readonly authority: string;
  /** where it was found: "referrer sha256:ab12…" or "sha256-<hex>.att layer 0" */
  readonly where: string;
}

export interface AttestationFact {
  readonly status: 'verified' | 'unverified' | 'error' | 'unavailable';
  readonly code: AttestationCode;
  readonly message: string;
  /** the digest checked (the one resolved for the review) */
  readonly digest?: string;
  /** verified attestations of the configured predicate types (empty unless status is verified) */
  readonly attestations: readonly VerifiedAttestation[];
}

/** Read-only view of the facts gathered for one pod. */
export interface Facts {
  image(image: string): ImageFact;
  signature(image: string): SignatureFact;
  digest(image: string): DigestFact;
  /** the attestations a policy (by id) asked for, verified with that policy's authorities */
  attestation(policy: string, image: string): AttestationFact;
}

/** The admission request being reviewed, for policies that read the whole object (custom CEL policies). */
export interface Review {
  readonly group: string;
  readonly kind: string;
  readonly operation: string;
  readonly namespace?: string;
  readonly subresource?: string;
  readonly dryRun?: boolean;
  readonly object: unknown;
  readonly oldObject?: unknown;
}

export interface CheckInput<P> {
  readonly pod: PodSite;
  readonly params: P;
  readonly facts: Facts;
  /** the request (absent when a pod is checked without one) */
  readonly review?: Review;
}

/** One CEL rule: true when the object passes; the problem as text or a CEL string; how to fix it. */
export interface CelRule {
  readonly expression: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fix?: string;
}

/**
 * A policy's rules in CEL, over `pod` (the pod spec), `params`, `object`, `oldObject`, `request` and, per container,
 * `container`: what `portcullis vap` renders into a ValidatingAdmissionPolicy.
 */
export interface CelRules {
  readonly validations?: readonly CelRule[];
  readonly containerValidations?: readonly CelRule[];
}

/** A policy: pure, synchronous check plus its metadata. */
export interface Policy<P extends object = object> {
  readonly id: string;
  readonly title: string;
  /** one sentence: what it refuses */
  readonly description: string;
  readonly severity: Severity;
  readonly category: Category;
  readonly defaultAction: Action;
  /**
   * The Pod Security Standards profiles that include this policy, with the parameters each profile sets
   * (a restricted entry absent: the baseline one applies). Read by the `podSecurity` config preset.
   */
  readonly podSecurity?: { readonly baseline?: Partial<P>; readonly restricted?: Partial<P> };
  /** image facts the engine gathers before running the check */
  readonly facts: readonly FactKind[];
  /** whether the check applies to pods with spec.os.name: windows */
  readonly appliesToWindows: boolean;
  /** JSON schema of the policy's parameters (without action/exclude, which every policy has) */
  readonly paramsSchema: Readonly<Record<string, unknown>>;
  readonly defaults: P;
  /** problems with parameters the schema cannot see (unreadable key files, unknown names); checked at config load */
  readonly validateParams?: (params: P) => string[];
  /** images that pinning to a digest would hide from this check (e.g. a missing or mutable tag): never pinned */
  readonly hidesFromPinning?: (image: string, params: P) => boolean;
  /** the containers whose image facts the check will read (default: every container) */
  readonly needsFacts?: (pod: PodSite, params: P) => readonly ContainerSite[];
  /** checks the pod as a whole (pod-level fields, or rules across containers) */
  readonly check?: (input: CheckInput<P>) => Finding[];
  /** checks one container; the engine visits each container once and asks every active policy */
  readonly checkContainer?: (site: ContainerSite, input: CheckInput<P>) => Finding | readonly Finding[] | undefined;
  /** the same rules in CEL, when they can be expressed without image facts (the fail-safe policies) */
  readonly cel?: CelRules;
}
