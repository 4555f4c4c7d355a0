// Suites that need a real component (cosign, helm, ocireg, the e2e control plane): run when it is there, skip
// with a warning on a developer machine, and fail under CI=true, naming the install step.

/** The install step of each real component the tests drive. */
export const INSTALL = {
  cosign: 'scripts/go-tools.sh cosign2 cosign3 ocireg (bash .ci/run does it)',
  ocireg: 'scripts/go-tools.sh ocireg (bash .ci/run does it)',
  helm: 'scripts/go-tools.sh helm (bash .ci/run does it)',
  cluster: 'npm run test:e2e (its global setup runs scripts/go-tools.sh kubernetes etcd and starts the control plane)',
} as const;

export function inCi(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return ci !== '' && ci !== 'false' && ci !== '0';
}

// True when the suite can run; false (with a warning) when `what` is missing; throws under CI instead of skipping.
export function requireTool(what: string, present: boolean, install: string): boolean {
  if (present) return true;
  if (inCi()) throw new Error(`CI=true: expected ${what}, got none — install it: ${install}`);
  console.warn(`skipping: ${what} is missing — install it: ${install}`);
  return false;
}
