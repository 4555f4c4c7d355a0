// require-non-root-user
// Rule: "Containers must not run as root." A container's effective user is
// securityContext.runAsUser (container), else the pod's securityContext.runAsUser, else the image
// config's User. UID 0 is denied, also with runAsNonRoot: true. Without a runAsUser and without image
// facts, only an effective runAsNonRoot: true proves non-root (the kubelet refuses root at start).
// With requireRunAsNonRoot, an effective runAsNonRoot: true is demanded as in the Pod Security
// Standards restricted profile (pod-level runAsNonRoot: false is then refused as well).
import type { CheckInput, ContainerSite, Finding, ImageFact, Policy, PodSite } from '../../src/engine/types.js';
import { parseImageUser } from '../../src/images/user.js';

export interface NonRootParams {
  readonly requireRunAsNonRoot: boolean;
  readonly allowNamedUsers: boolean;
  /** what to do when image facts could not be fetched: fall back to the spec-only rule, deny, or allow */
  readonly onError: 'fallback' | 'deny' | 'allow';
}

const SET_UID = 'set securityContext.runAsUser to a non-zero UID (e.g. 65532)';
const SET_NON_ROOT = 'set securityContext.runAsNonRoot: true';

interface Effective {
  readonly runAsUser?: number;
  readonly userFrom: 'container' | 'pod';
  readonly runAsNonRoot?: boolean;
}

function effectiveOf(pod: PodSite, site: ContainerSite): Effective {
  const sc = site.container.securityContext;
  const psc = pod.spec.securityContext;
  return {
    runAsUser: sc?.runAsUser ?? psc?.runAsUser,
    userFrom: sc?.runAsUser !== undefined ? 'container' : 'pod',
    runAsNonRoot: sc?.runAsNonRoot ?? psc?.runAsNonRoot,
  };
}

// The spec-only rule: no runAsUser set, so only runAsNonRoot: true proves non-root.
function specOnly(site: ContainerSite, eff: Effective, why: string): Finding | undefined {
  if (eff.runAsNonRoot === true) return undefined;
  return {
    container: site,
    problem: `cannot prove non-root: no runAsUser set, runAsNonRoot is ${eff.runAsNonRoot === false ? 'false' : 'unset'}${why}`,
    fix: `${SET_NON_ROOT} and ${SET_UID.replace('set ', '')}`,
  };
}

function runAsNonRootFinding(site: ContainerSite, eff: Effective): Finding {
  return { container: site, problem: `runAsNonRoot is ${eff.runAsNonRoot === false ? 'false' : 'unset'}, expected true`, fix: SET_NON_ROOT };
}

// Decides from the image config's User when the spec names no UID.
function fromImage(site: ContainerSite, eff: Effective, fact: ImageFact, params: NonRootParams): Finding | undefined {
  if (fact.status === 'unavailable') return specOnly(site, eff, ' (image config not inspected)');
  if (fact.status === 'error') {
    if (params.onError === 'allow') return undefined;
    if (params.onError === 'fallback') return specOnly(site, eff, ` (image config unavailable: ${fact.message})`);
    return { container: site, problem: `cannot inspect image config: ${fact.message}`, fix: `${SET_UID}, or fix registry access` };
  }
  const user = parseImageUser(fact.user);
  const where = `image ${fact.digest} (${fact.platform})`;
  if (user.kind === 'root') {
    return { container: site, problem: `${where} runs as root (config User ${JSON.stringify(fact.user)})`, fix: SET_UID };
  }
  if (user.kind === 'name' && !params.allowNamedUsers) {
    return {
      container: site,
      problem: `${where} runs as named user "${user.name}", which the kubelet cannot verify as non-root`,
      fix: `${SET_UID.replace(' (e.g. 65532)', '')} matching "${user.name}"`,
    };
  }
  return undefined;
}

// Checks one container's effective user. Windows pods: only runAsNonRoot, with requireRunAsNonRoot (as PSA does).
function checkContainer(site: ContainerSite, input: CheckInput<NonRootParams>): Finding[] {
  const { pod } = input;
  const eff = effectiveOf(pod, site);
  const out: Finding[] = [];
  if (pod.windows) {
    if (input.params.requireRunAsNonRoot && eff.runAsNonRoot !== true) out.push(runAsNonRootFinding(site, eff));
    return out;
  }
  if (eff.runAsUser === 0) {
    const alsoNonRoot = eff.runAsNonRoot === true ? '; runAsNonRoot: true cannot override it' : '';
    out.push({ container: site, problem: `runs as root (runAsUser: 0 set on the ${eff.userFrom}${alsoNonRoot})`, fix: SET_UID });
  }
  if (input.params.requireRunAsNonRoot && eff.runAsNonRoot !== true) {
    out.push(runAsNonRootFinding(site, eff));
    return out;
  }
  if (eff.runAsUser === undefined) {
    const finding = fromImage(site, eff, input.facts.image(site.container.image), input.params);
    if (finding) out.push(finding);
  }
  return out;
}

// Pod-level values that make root the default for containers added later (kubectl debug), reported
// when every current container overrides them (otherwise the container finding already says it).
function podFindings(pod: PodSite, params: NonRootParams): Finding[] {
  const psc = pod.spec.securityContext;
  const inherits = (key: 'runAsUser' | 'runAsNonRoot'): boolean => pod.containers.some((s) => s.container.securityContext?.[key] === undefined);
  const out: Finding[] = [];
  if (psc?.runAsUser === 0 && !inherits('runAsUser')) {
    out.push({ problem: 'pod securityContext.runAsUser is 0 (root)', fix: 'set spec.securityContext.runAsUser to a non-zero UID or remove it' });
  }
  if (params.requireRunAsNonRoot && psc?.runAsNonRoot === false && !inherits('runAsNonRoot')) {
    out.push({ problem: 'pod securityContext.runAsNonRoot is false', fix: 'set spec.securityContext.runAsNonRoot: true' });
  }
  return out;
}

// Checks the pod-level user settings that containers added later would inherit.
function check({ pod, params }: CheckInput<NonRootParams>): Finding[] {
  return pod.windows ? [] : podFindings(pod, params);
}

// Only containers without a runAsUser (container or pod) read the image config's User.
function needsFacts(pod: PodSite): ContainerSite[] {
  if (pod.windows) return [];
  return pod.containers.filter((site) => effectiveOf(pod, site).runAsUser === undefined);
}

export const requireNonRootUser: Policy<NonRootParams> = {
  id: 'require-non-root-user',
  title: 'Run as a non-root user',
  description: "No container runs as UID 0: the effective user from the container's and pod's securityContext, else the image config's User.",
  severity: 'high',
  category: 'Pod Security',
  defaultAction: 'deny',
  facts: ['imageConfig'],
  appliesToWindows: true,
  podSecurity: { restricted: { requireRunAsNonRoot: true } },
  paramsSchema: {
    requireRunAsNonRoot: { type: 'boolean' },
    allowNamedUsers: { type: 'boolean' },
    onError: { enum: ['fallback', 'deny', 'allow'] },
  },
  defaults: { requireRunAsNonRoot: false, allowNamedUsers: false, onError: 'fallback' },
  needsFacts,
  check,
  checkContainer,
};
