// Decides the next certificate state: creation, serving-certificate renewal and the three-step CA rotation.
import { generateCa, issueServingCert } from '../server/certs.js';
import type { KeyPair } from '../server/certs.js';
import { renewWindowMs } from './duration.js';
import type { RenewBefore } from './duration.js';
import { certFacts, joinPem, signedBy } from './pem.js';
import type { CertState } from './state.js';

const DAY_MS = 86_400_000;

export interface CertPolicy {
  /** SANs of the serving certificate */
  readonly sans: readonly string[];
  readonly caValidityMs: number;
  readonly servingValidityMs: number;
  readonly renewBefore: RenewBefore;
  /** how long each step of a CA rotation lasts before the next (bundle propagation, replicas reloading) */
  readonly overlapMs: number;
}

export interface PlanInput {
  readonly state: CertState;
  readonly now: number;
  /** generation of the bundle the webhook configuration carries for this Secret, when known */
  readonly webhookGeneration: number | undefined;
  /** an operator's rotate-ca request not acted upon yet */
  readonly rotationRequested: string | undefined;
}

export interface Step {
  readonly state: CertState;
  readonly reason: string;
}

// A new CA, named with its creation time so two CAs in one bundle never share a subject.
export function newCa(policy: CertPolicy, now: number): KeyPair {
  return generateCa(`portcullis-ca ${new Date(now).toISOString()}`, policy.caValidityMs / DAY_MS);
}

// A serving certificate from `ca`, never outliving it.
export function newServing(ca: KeyPair, policy: CertPolicy, now: number): KeyPair {
  const caLeft = certFacts(ca.certPem).notAfter - now;
  const ms = Math.max(1000, Math.min(policy.servingValidityMs, caLeft));
  return issueServingCert(ca, policy.sans, ms / DAY_MS);
}

// The first state: a CA, a serving certificate, and a bundle with that CA.
export function initialState(policy: CertPolicy, now: number): CertState {
  const ca = newCa(policy, now);
  return { phase: 'stable', generation: 1, phaseSince: now, ca, serving: newServing(ca, policy, now), bundle: joinPem([ca.certPem]) };
}

// Why the serving certificate must be reissued, if it must.
function servingProblem(state: CertState, policy: CertPolicy, now: number): string | undefined {
  if (!signedBy(state.serving.certPem, state.ca.certPem)) return 'serving certificate not signed by the current CA';
  const facts = certFacts(state.serving.certPem);
  const want = [...new Set(policy.sans)].sort().join(',');
  const have = [...new Set(facts.sans)].sort().join(',');
  if (want !== have) return `serving certificate SANs changed (${have} -> ${want})`;
  if (now >= facts.notAfter - renewWindowMs(policy.renewBefore, policy.servingValidityMs)) return 'serving certificate due for renewal';
  return undefined;
}

// Why the CA must be rotated, if it must.
function caProblem(input: PlanInput, policy: CertPolicy): string | undefined {
  if (input.rotationRequested !== undefined) return `CA rotation requested (${input.rotationRequested})`;
  const facts = certFacts(input.state.ca.certPem);
  if (input.now >= facts.notAfter - renewWindowMs(policy.renewBefore, policy.caValidityMs)) return 'CA due for renewal';
  return undefined;
}

// The next state, or undefined when nothing is due.
export function plan(input: PlanInput, policy: CertPolicy): Step | undefined {
  const { state, now } = input;
  const bundleLive = input.webhookGeneration !== undefined && input.webhookGeneration >= state.generation;
  const overlapDone = now - state.phaseSince >= policy.overlapMs;
  switch (state.phase) {
    case 'stable': {
      const caReason = caProblem(input, policy);
      if (caReason) {
        const nextCa = newCa(policy, now);
        return {
          reason: `${caReason}: next CA added to the bundle`,
          state: {
            ...state,
            phase: 'ca-staged',
            generation: state.generation + 1,
            phaseSince: now,
            nextCa,
            bundle: joinPem([state.ca.certPem, nextCa.certPem]),
            ...(input.rotationRequested !== undefined ? { rotatedFor: input.rotationRequested } : {}),
          },
        };
      }
      const servingReason = servingProblem(state, policy, now);
      if (servingReason) return { reason: servingReason, state: { ...state, serving: newServing(state.ca, policy, now) } };
      return undefined;
    }
    case 'ca-staged': {
      if (!bundleLive || !overlapDone || !state.nextCa) return undefined;
      const { nextCa, ...rest } = state;
      return {
        reason: 'bundle with the next CA is live: serving a certificate from the next CA',
        state: { ...rest, phase: 'ca-switched', phaseSince: now, ca: nextCa, serving: newServing(nextCa, policy, now) },
      };
    }
    case 'ca-switched': {
      if (!bundleLive || !overlapDone) return undefined;
      return {
        reason: 'every replica serves from the new CA: previous CA dropped from the bundle',
        state: { ...state, phase: 'stable', generation: state.generation + 1, phaseSince: now, bundle: joinPem([state.ca.certPem]) },
      };
    }
  }
}
