// Digest pinning: which containers of a Pod get their image pinned to the digest portcullis checked (the mutating
// webhook), and the warning or denial for a Pod that reaches validation unpinned.
import type { Config, PolicySettings } from '../config/types.js';
import { ImageReferenceError, referenceOf } from '../images/reference.js';
import type { ContainerSite, Facts, Finding, Policy, PodSite } from './types.js';
import type { Violation } from './decision.js';
import { formatFinding } from './decision.js';
import { matchesAny } from './globs.js';
import { CONTAINER_LISTS } from '../workload/podspecs.js';

/** The pseudo-policy id of pinning findings (`[pinning] container ...`). */
export const PINNING_ID = 'pinning';

export interface PinRequest {
  readonly kind: string;
  readonly group: string;
  readonly operation: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

// Whether pinning is on for this config: explicitly, or (auto) when some active policy looks up image facts.
export function pinningOn(config: Config, active: ReadonlyArray<readonly [Policy, PolicySettings]>): boolean {
  if (config.pinning.enabled !== 'auto') return config.pinning.enabled;
  return config.registry.enabled && active.some(([policy]) => policy.facts.length > 0);
}

// Why a request's Pod is not pinned at all, or undefined when it is: Pod creations, Pod updates (the images they
// change) and `kubectl debug`.
export function pinningSkip(request: PinRequest, config: Config): string | undefined {
  if (request.group !== '' || request.kind !== 'Pod') return `kind ${request.kind} is never pinned (only Pods are)`;
  const debug = request.operation === 'UPDATE' && request.subresource === 'ephemeralcontainers';
  const plain = (request.operation === 'CREATE' || request.operation === 'UPDATE') && !request.subresource;
  if (!plain && !debug) return `operation ${request.operation}${request.subresource ? ` on ${request.subresource}` : ''} is never pinned`;
  if (request.namespace && config.pinning.excludeNamespaces.includes(request.namespace)) return `namespace ${request.namespace} is excluded from pinning`;
  return undefined;
}

// Whether an image can carry a digest: a valid reference without one, not excluded, hidden from no active check.
function pinnable(image: string, config: Config, active: ReadonlyArray<readonly [Policy, PolicySettings]>): boolean {
  const ref = referenceOf(image);
  if (ref instanceof ImageReferenceError || ref.digest !== undefined) return false;
  if (matchesAny(config.pinning.excludeImages, image)) return false;
  return !active.some(([policy, settings]) => policy.hidesFromPinning?.(image, settings.params) === true);
}

// The image each container of the old Pod ran, keyed by list and name ("containers/app"): a Pod update pins the images
// it changes, a debug update only its new ephemeral containers.
function oldImages(old: unknown): Map<string, unknown> {
  const spec = (old as { spec?: Record<string, unknown> } | undefined)?.spec;
  const images = new Map<string, unknown>();
  for (const list of CONTAINER_LISTS) {
    const items = spec?.[list];
    if (!Array.isArray(items)) continue;
    for (const c of items as Array<{ name?: unknown; image?: unknown }>) if (typeof c?.name === 'string') images.set(`${list}/${c.name}`, c.image);
  }
  return images;
}

// The containers whose image the mutating webhook pins, tag-only images of: every container of a created Pod, the
// containers whose image a Pod update changes (an unchanged image is never touched: rewriting it would restart the
// container), the new ephemeral containers of `kubectl debug`.
export function pinTargets(request: PinRequest, pod: PodSite, config: Config, active: ReadonlyArray<readonly [Policy, PolicySettings]>): ContainerSite[] {
  const debug = request.subresource === 'ephemeralcontainers';
  const before = debug || request.operation === 'UPDATE' ? oldImages(request.oldObject) : undefined;
  return pod.containers.filter((site) => {
    const key = `${site.list}/${site.name}`;
    if (debug && (site.list !== 'ephemeralContainers' || before?.has(key))) return false;
    if (!debug && before?.get(key) === site.container.image) return false;
    return pinnable(site.container.image, config, active);
  });
}

// The pinning findings of a Pod that reached validation with images the mutating webhook should have pinned.
export function unpinnedViolations(request: PinRequest, pod: PodSite, config: Config, active: ReadonlyArray<readonly [Policy, PolicySettings]>, audit: boolean): Violation[] {
  if (request.dryRun === true || !pinningOn(config, active) || pinningSkip(request, config) !== undefined) return [];
  const required = config.pinning.required;
  return pinTargets(request, pod, config, active).map((site) => {
    const image = site.container.image;
    const finding: Finding = {
      container: site,
      problem: `image "${image}" is not pinned to a digest (the portcullis mutating webhook did not pin it), so a moved tag would run unchecked content`,
      fix: `check that the MutatingWebhookConfiguration "portcullis" is installed and reachable, or pin it yourself: ${image}@sha256:<digest>`,
    };
    const effect = required && !audit ? 'deny' : 'warn';
    return {
      policy: PINNING_ID,
      effect,
      wouldDeny: required && audit,
      preexisting: false,
      container: { name: site.name, list: site.list, index: site.index },
      problem: finding.problem,
      fix: finding.fix,
      message: formatFinding(PINNING_ID, finding),
    } satisfies Violation;
  });
}

export interface PinnedImage {
  readonly container: ContainerSite;
  readonly from: string;
  readonly to: string;
  readonly digest: string;
}

export interface PinPlan {
  /** why the request is not pinned at all (not a Pod, pinning off, excluded namespace, ...) */
  readonly skipped?: string;
  /** false in audit mode and for dry runs: nothing is patched, the warnings say what would have been */
  readonly apply: boolean;
  readonly pinned: readonly PinnedImage[];
  /** containers that could not be pinned (registry errors): the validating webhook decides with its onError */
  readonly failed: ReadonlyArray<{ readonly container: ContainerSite; readonly image: string; readonly reason: string }>;
}

export const NOT_PINNED = (reason: string): PinPlan => ({ skipped: reason, apply: false, pinned: [], failed: [] });

// Turns the resolved digests of the targets into the plan.
export function planFrom(targets: readonly ContainerSite[], facts: Facts, apply: boolean): PinPlan {
  const pinned: PinnedImage[] = [];
  const failed: Array<{ container: ContainerSite; image: string; reason: string }> = [];
  for (const site of targets) {
    const image = site.container.image;
    const at = facts.digest(image);
    if (at.status === 'ok') pinned.push({ container: site, from: image, to: `${image}@${at.digest}`, digest: at.digest });
    else failed.push({ container: site, image, reason: at.status === 'error' ? at.message : 'registry look-ups are disabled (registry.enabled: false)' });
  }
  return { apply, pinned, failed };
}
