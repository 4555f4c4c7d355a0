// The engine: expands an object into its pod spec, gathers facts, runs the policies and joins the results.
import { isDeepStrictEqual } from 'node:util';
import type { Config, PolicySettings } from '../config/types.js';
import { podSiteOf, rawPodSpec, carriesPods } from '../workload/podspecs.js';
import { isObject, WorkloadError } from '../workload/k8s.js';
import type { ContainerSite, FactKind, Facts, Finding, Policy, PodSite, Review } from './types.js';
import type { FactGatherer } from './facts.js';
import { NO_FACT_GATHERER, NO_FACTS } from './facts.js';
import { PeekedFacts } from './peeked-facts.js';
import { decide, formatFinding, refused, skipped } from './decision.js';
import type { Decision, Effect, Violation } from './decision.js';
import { matchesAny } from './globs.js';
import { NOT_PINNED, pinningOn, pinningSkip, pinTargets, planFrom, unpinnedViolations } from './pinning.js';
import type { PinPlan } from './pinning.js';
import { applyExceptions } from './exceptions.js';
import type { ExceptionSource } from './exceptions.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface EvaluationInput {
  readonly group: string;
  readonly kind: string;
  readonly operation: Operation;
  readonly namespace?: string;
  readonly subresource?: string;
  readonly object: unknown;
  readonly oldObject?: unknown;
  /** decide in audit mode whatever the config says (the /validate/audit endpoint) */
  readonly forceAudit?: boolean;
  /** a server-side dry run: never pinned, so never asked to be */
  readonly dryRun?: boolean;
  /** an admission request that came after the mutating webhook: report images it should have pinned */
  readonly checkPinned?: boolean;
}

export interface EvaluationOptions {
  /** epoch milliseconds by which fact look-ups must finish */
  readonly deadline: number;
}

export interface Engine {
  /** Decides at once when no policy needs a looked-up fact or every fact needed is cached (a Decision), else after
   * the look-ups (a Promise). */
  evaluate(input: EvaluationInput, options: EvaluationOptions): Decision | Promise<Decision>;
  /** Which images of a Pod to pin to the digest the registry names for them now (the mutating webhook); at once when
   * every digest is cached. */
  pin(input: EvaluationInput, options: EvaluationOptions): PinPlan | Promise<PinPlan>;
}

export interface EngineOptions {
  readonly config: () => Config;
  readonly facts?: FactGatherer;
  /** the policies to run (default: the list the config was validated against) */
  readonly policies?: readonly Policy[];
  /** PolicyExceptions in force (webhook: the informer; audit: --exceptions files; none by default) */
  readonly exceptions?: ExceptionSource;
  /** the clock exceptions expire by (epoch ms; default Date.now) */
  readonly now?: () => number;
}

/** Which findings an UPDATE introduced: a container is new or changed, or pod-level fields changed. */
interface Novelty {
  podLevelChanged: boolean;
  changedContainer(site: ContainerSite): boolean;
}

const EVERYTHING_NEW: Novelty = { podLevelChanged: true, changedContainer: () => true };

function withoutContainers(spec: unknown): unknown {
  if (!isObject(spec)) return spec;
  const { containers: _c, initContainers: _i, ephemeralContainers: _e, ...rest } = spec;
  return rest;
}

function containerByName(spec: unknown, list: string, name: string): unknown {
  if (!isObject(spec) || !Array.isArray(spec[list])) return undefined;
  return (spec[list] as unknown[]).find((c) => isObject(c) && c.name === name);
}

// Compares an UPDATE's pod spec with the old one to find what it changed.
function noveltyOf(input: EvaluationInput): Novelty | 'unchanged' {
  if (input.operation !== 'UPDATE' || input.oldObject === undefined) return EVERYTHING_NEW;
  const spec = rawPodSpec(input.object, input.group, input.kind);
  const old = rawPodSpec(input.oldObject, input.group, input.kind);
  if (isDeepStrictEqual(spec, old)) return 'unchanged';
  const podLevelChanged = !isDeepStrictEqual(withoutContainers(spec), withoutContainers(old));
  return {
    podLevelChanged,
    changedContainer: (site) => {
      const before = containerByName(old, site.list, site.name);
      const after = isObject(spec) && Array.isArray(spec[site.list]) ? (spec[site.list] as unknown[])[site.index] : undefined;
      return before === undefined || !isDeepStrictEqual(before, after);
    },
  };
}

function isPreexisting(novelty: Novelty | 'unchanged', finding: Finding): boolean {
  if (novelty === 'unchanged') return true;
  if (novelty.podLevelChanged) return false;
  return finding.container ? !novelty.changedContainer(finding.container) : true;
}

function effectOf(settings: PolicySettings, audit: boolean, preexisting: boolean): { effect: Effect; wouldDeny: boolean } {
  if (settings.action === 'deny') {
    return audit || preexisting ? { effect: 'warn', wouldDeny: true } : { effect: 'deny', wouldDeny: false };
  }
  return { effect: settings.action === 'warn' ? 'warn' : 'audit', wouldDeny: false };
}

type Active = Array<[Policy, PolicySettings]>;
interface ActiveSets {
  readonly linux: Active;
  readonly windows: Active;
  /** facts peeked under this config (the gatherers read its policy parameters) */
  readonly facts: PeekedFacts;
}

// The policies a config turns on, for Linux and for Windows pods: computed once per config, not per review.
function activeSets(policies: readonly Policy[], config: Config, gatherer: FactGatherer): ActiveSets {
  const linux: Active = policies.flatMap((policy): Active => {
    const settings = config.policies[policy.id];
    return settings && settings.action !== 'off' ? [[policy, settings]] : [];
  });
  return { linux, windows: linux.filter(([policy]) => policy.appliesToWindows), facts: new PeekedFacts(gatherer) };
}

/** the active policies that read looked-up facts, per active list (one list per config and pod OS) */
const lookingUp = new WeakMap<Active, Active>();

function factPolicies(active: Active): Active {
  let found = lookingUp.get(active);
  if (!found) lookingUp.set(active, (found = active.filter(([policy]) => policy.facts.length > 0)));
  return found;
}

// The images each fact kind is needed for, leaving out images a policy excludes; undefined when none is needed.
function factNeeds(active: Active, pod: PodSite): Map<FactKind, Set<string>> | undefined {
  let needs: Map<FactKind, Set<string>> | undefined;
  for (const [policy, settings] of factPolicies(active)) {
    const sites = policy.needsFacts ? policy.needsFacts(pod, settings.params) : pod.containers;
    if (sites.length === 0) continue;
    const excluded = settings.excludeImages;
    for (const kind of policy.facts) {
      let set = needs?.get(kind);
      for (const site of sites) {
        const image = site.container.image;
        if (excluded.length > 0 && matchesAny(excluded, image)) continue;
        if (!set) (needs ??= new Map()).set(kind, (set = new Set()));
        set.add(image);
      }
    }
  }
  return needs;
}

type Found = Finding | readonly Finding[] | undefined;

// Runs the active policies over the pod in one pass: each policy's pod check, then every container once, asking
// each active policy about it (containers a policy excludes by image are not checked for it).
function findingsOf(active: Active, pod: PodSite, facts: Facts, review: Review): Array<Finding[] | undefined> {
  const found: Array<Finding[] | undefined> = new Array<Finding[] | undefined>(active.length);
  const add = (i: number, f: Found): void => {
    if (f === undefined) return;
    if (Array.isArray(f)) {
      if (f.length > 0) (found[i] ??= []).push(...(f as readonly Finding[]));
    } else (found[i] ??= []).push(f as Finding);
  };
  const inputs = active.map(([, settings]) => ({ pod, params: settings.params, facts, review }));
  for (let i = 0; i < active.length; i++) {
    const check = active[i]![0].check;
    if (check) add(i, check(inputs[i]!));
  }
  // indexed, not destructured: this loop runs (policies x containers) times per review, and allocates nothing itself
  for (let c = 0; c < pod.containers.length; c++) {
    const site = pod.containers[c]!;
    for (let i = 0; i < active.length; i++) {
      const entry = active[i]!;
      const policy = entry[0];
      if (!policy.checkContainer) continue;
      const excluded = entry[1].excludeImages;
      if (excluded.length > 0 && matchesAny(excluded, site.container.image)) continue;
      add(i, policy.checkContainer(site, inputs[i]!));
    }
  }
  return found;
}

// Runs the active policies over the pod with these facts and joins their findings into the decision.
function judge(active: Active, pod: PodSite, facts: Facts, novelty: Novelty | 'unchanged', audit: boolean, extra: readonly Violation[], review: Review): Decision {
  const found = findingsOf(active, pod, facts, review);
  const violations: Violation[] = [...extra];
  for (let i = 0; i < active.length; i++) {
    const findings = found[i];
    if (!findings) continue;
    const [policy, settings] = active[i]!;
    for (const finding of findings) {
      if (finding.container && matchesAny(settings.excludeImages, finding.container.container.image)) continue;
      const preexisting = isPreexisting(novelty, finding);
      const c = finding.container;
      violations.push({
        policy: policy.id,
        ...(finding.advisory ? { effect: 'warn' as const, wouldDeny: false } : effectOf(settings, audit, preexisting)),
        preexisting,
        ...(c ? { container: { name: c.name, list: c.list, index: c.index } } : {}),
        problem: finding.problem,
        fix: finding.fix,
        ...(finding.code ? { code: finding.code } : {}),
        message: formatFinding(policy.id, finding),
      });
    }
  }
  return decide(violations);
}

function invalidObject(err: WorkloadError): Decision {
  const message = `[portcullis] object: ${err.message} — fix the field so the pod spec can be checked`;
  return refused(message, 'deny');
}

interface Prepared {
  readonly config: Config;
  readonly pod: PodSite;
  readonly audit: boolean;
  readonly active: Active;
  readonly facts: PeekedFacts;
}

// What every request needs before policies run: the config, the pod spec, the mode, the active policies; or the
// decision when there is nothing to evaluate.
function prepare(input: EvaluationInput, config: Config, activeFor: (config: Config) => ActiveSets): Prepared | Decision {
  if (input.operation === 'DELETE' || input.operation === 'CONNECT') return skipped(`operation ${input.operation}`);
  if (input.namespace && config.excludeNamespaces.includes(input.namespace)) return skipped(`namespace ${input.namespace} is excluded`);
  if (!carriesPods(input.group, input.kind)) return skipped(`kind ${input.kind} carries no pod spec`);
  if (input.subresource && !(input.kind === 'Pod' && input.subresource === 'ephemeralcontainers')) return skipped(`subresource ${input.subresource}`);
  let pod: PodSite | undefined;
  try {
    pod = podSiteOf(input.object, input.group, input.kind);
  } catch (err) {
    if (err instanceof WorkloadError) return invalidObject(err);
    throw err;
  }
  if (!pod) return skipped(`kind ${input.kind} carries no pod spec`);
  const audit = input.forceAudit === true || config.mode === 'audit' || (input.namespace !== undefined && config.auditNamespaces.includes(input.namespace));
  const sets = activeFor(config);
  return { config, pod, audit, active: pod.windows ? sets.windows : sets.linux, facts: sets.facts };
}

function isDecision(p: Prepared | Decision): p is Decision {
  return 'allowed' in p;
}

// Applies `then` to a value now, or to a promised one once it settles.
function andThen<T, R>(value: T | Promise<T>, then: (value: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}

// Creates the engine every entry point uses (webhook, background scan, offline CLI).
export function createEngine(options: EngineOptions): Engine {
  const gatherer = options.facts ?? NO_FACT_GATHERER;
  const plans = new WeakMap<Config, ActiveSets>();
  const activeFor = (config: Config): ActiveSets => {
    let sets = plans.get(config);
    if (!sets) plans.set(config, (sets = activeSets(options.policies ?? config.catalog, config, gatherer)));
    return sets;
  };
  const exceptionContext = { ...(options.exceptions ? { source: options.exceptions } : {}), now: options.now ?? Date.now };
  return {
    evaluate(input, { deadline }) {
      const prepared = prepare(input, options.config(), activeFor);
      if (isDecision(prepared)) return prepared;
      const { config, pod, audit, active, facts: peeked } = prepared;
      const novelty = noveltyOf(input);
      const unpinned = input.checkPinned === true ? unpinnedViolations(input, pod, config, active, audit) : [];
      const needs = factNeeds(active, pod);
      const except = (d: Decision) => applyExceptions(d, input, exceptionContext);
      if (!needs) return except(judge(active, pod, NO_FACTS, novelty, audit, unpinned, input));
      // decided at once when every fact is cached, else once the look-ups settle
      const facts = peeked.facts({ pod, images: needs, deadline, ...(input.namespace ? { namespace: input.namespace } : {}) });
      return andThen(facts, (f) => except(judge(active, pod, f, novelty, audit, unpinned, input)));
    },
    pin(input, { deadline }) {
      const config = options.config();
      const skip = pinningSkip(input, config);
      if (skip) return NOT_PINNED(skip);
      const prepared = prepare(input, config, activeFor);
      if (isDecision(prepared)) return NOT_PINNED(prepared.skipped ?? 'the pod spec cannot be read');
      const { pod, audit, active, facts: peeked } = prepared;
      if (!pinningOn(config, active)) return NOT_PINNED('pinning is off (pinning.enabled, or no active policy looks up image facts)');
      const targets = pinTargets(input, pod, config, active);
      if (targets.length === 0) return { apply: false, pinned: [], failed: [] };
      const images = new Map([['digest' as const, new Set(targets.map((t) => t.container.image))]]);
      const apply = !audit && input.dryRun !== true;
      const facts = peeked.facts({ pod, images, deadline, ...(input.namespace ? { namespace: input.namespace } : {}) });
      return andThen(facts, (f) => planFrom(targets, f, apply));
    },
  };
}
