// The "policy count" section: pod-10c closed loop (32 connections) with the five original policies, with every
// built-in policy that needs no registry, and with those plus the image-dependent ones over cached image facts
// (a synthetic registry), each next to the null webhook: evaluation must not grow like a loop of independent checks.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICIES } from '../policies/index.js';
import { allowed, h2Client, median } from './client.js';
import { startFakeRegistry } from './images.js';
import { closedLoop, type LoadResult, type SectionOptions } from './load.js';
import type { Payload } from './payloads.js';
import { startSampler, type ProcUsage } from './procstat.js';
import { startNullWebhook, startPortcullis, type Target } from './targets.js';

const ORIGINAL = ['require-non-root-user', 'require-drop-all-capabilities', 'disallow-latest-tag', 'require-read-only-root-filesystem', 'require-signed-images'];
const IMAGE_DEPENDENT = ['limit-image-size', 'disallow-secrets-in-env', 'require-signed-images'];
/** Policies that need in-toto attestations the synthetic registry does not serve: off in every row (named in the report). */
export const NOT_MEASURED = ['require-vulnerability-scan', 'require-provenance'];

export interface PolicyCountRow {
  readonly name: string;
  /** policies the config turns on */
  readonly active: number;
  readonly answer: string;
  /** the window with the median throughput */
  readonly load: LoadResult;
  readonly usage: ProcUsage;
  /** throughput over the null webhook's in the same round, one per round */
  readonly ratios: readonly number[];
}

export interface PolicyCountResults {
  readonly payload: string;
  readonly rounds: number;
  /** length of each measured window */
  readonly seconds: number;
  readonly nullWebhook: { load: LoadResult; usage: ProcUsage };
  readonly rows: readonly PolicyCountRow[];
}

type Settings = Record<string, Record<string, unknown>>;

// A config YAML with exactly these policy settings (every other listed policy off), this registry section and these
// custom policies.
function configYaml(settings: Settings, registry: string, listed: readonly string[] = POLICIES.map((p) => p.id), custom: readonly object[] = []): string {
  const lines = listed.map((id) => `  ${id}: ${JSON.stringify(settings[id] ?? { action: 'off' })}`);
  const customs = custom.length > 0 ? `customPolicies:\n  policies:\n${custom.map((c) => `    - ${JSON.stringify(c)}`).join('\n')}\n` : '';
  return `apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\nmode: enforce\nregistry: ${registry}\npolicies:\n${lines.join('\n')}\n${customs}exclude:\n  namespaces: [kube-system]\n`;
}

const rule = (expression: string, message: string) => ({ expression, message, fix: 'see the policy' });
/** Ten custom CEL policies a platform team might write, five per container and five over the pod; all pass pod-10c. */
export const TEN_CUSTOM_POLICIES: readonly object[] = [
  { id: 'c-no-host-aliases', title: 'No hostAliases', validations: [rule('!has(pod.hostAliases)', 'sets hostAliases')] },
  { id: 'c-no-share-pid', title: 'No shared process namespace', validations: [rule('!has(pod.shareProcessNamespace) || !pod.shareProcessNamespace', 'shares its process namespace')] },
  { id: 'c-dns-policy', title: 'Cluster DNS', validations: [rule("!has(pod.dnsPolicy) || pod.dnsPolicy in ['ClusterFirst', 'Default']", 'uses another DNS policy')] },
  { id: 'c-few-containers', title: 'At most 20 containers', validations: [rule('size(pod.containers) <= 20', 'has more than 20 containers')] },
  { id: 'c-unique-ports', title: 'Unique container ports', validations: [rule('pod.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort > 0 && p.containerPort < 65536))', 'has a port out of range')] },
  { id: 'c-image-registry', title: 'Images from the team registry', containerValidations: [rule("container.image.matches('^[a-z0-9.-]+(:[0-9]+)?/')", 'image from no registry')] },
  { id: 'c-memory-budget', title: 'Memory limits within 4Gi', params: { max: '4Gi' }, containerValidations: [rule("!has(container.resources) || !has(container.resources.limits) || !('memory' in container.resources.limits) || !quantity(container.resources.limits.memory).isGreaterThan(quantity(params.max))", 'memory limit above the budget')] },
  { id: 'c-env-names', title: 'Env names are identifiers', containerValidations: [rule("!has(container.env) || container.env.all(e, e.name.matches('^[A-Za-z_][A-Za-z0-9_]*$'))", 'env name is not an identifier')] },
  { id: 'c-probe-ports', title: 'Probes use named or numbered ports', containerValidations: [rule('!has(container.livenessProbe) || !has(container.livenessProbe.httpGet) || has(container.livenessProbe.httpGet.port)', 'liveness probe without a port')] },
  { id: 'c-name-length', title: 'Short container names', containerValidations: [rule('size(container.name) <= 40 && container.name.lowerAscii() == container.name', 'container name too long or not lowercase')] },
];

/** A configuration measured; `cold`: its caches are filled by the warm-up load itself, so its first reviews wait on the
 * registry together (what a cluster does after a restart or a tag's TTL), not by one review before it. */
interface Scenario {
  readonly name: string;
  readonly settings: Settings;
  readonly registry: string;
  readonly images: boolean;
  readonly custom?: readonly object[];
  readonly cold?: boolean;
}

// The configurations measured, and the registry host images are rewritten to (cached facts).
function scenarios(registryHost: string, publicPem: string): Scenario[] {
  const five: Settings = Object.fromEntries(POLICIES.filter((p) => ORIGINAL.includes(p.id)).map((p) => [p.id, { action: p.defaultAction }]));
  const builtIn: Settings = Object.fromEntries(
    POLICIES.filter((p) => !IMAGE_DEPENDENT.includes(p.id) && !NOT_MEASURED.includes(p.id)).map((p) => [p.id, { action: 'deny' }]),
  );
  builtIn['restrict-image-registries'] = { action: 'deny', allowed: ['**'] };
  const signed = { action: 'deny', authorities: { 'bench-key': { key: publicPem, ignoreTlog: true } }, images: [{ pattern: '**', authorities: ['bench-key'] }] };
  const withImages: Settings = { ...builtIn, 'limit-image-size': { action: 'deny' }, 'disallow-secrets-in-env': { action: 'deny' }, 'require-signed-images': signed };
  return [
    { name: '5 policies (the original defaults)', settings: five, registry: '{ enabled: true }', images: false },
    { name: 'all built-in, spec only', settings: builtIn, registry: '{ enabled: true }', images: false },
    { name: 'all built-in + image-dependent (facts, signatures), cached', settings: withImages, registry: `{ enabled: true, insecure: ["${registryHost}"] }`, images: true },
    { name: 'the same, its caches filled under load (first reviews wait on the registry)', settings: withImages, registry: `{ enabled: true, insecure: ["${registryHost}"] }`, images: true, cold: true },
    { name: '10 custom CEL policies (built-ins off)', settings: {}, registry: '{ enabled: true }', images: false, custom: TEN_CUSTOM_POLICIES },
  ];
}

// The review with every container image pinned to a digest, as it reaches /validate after the mutating webhook
// (a tag-only image would get a [pinning] warning per container); digestOf names the digest of each image.
export function pinImages(body: string, digestOf: (image: string) => string = madeUpDigest): string {
  const review = JSON.parse(body) as { request: { object: { kind?: string; spec?: { containers?: Array<{ image: string }> } } } };
  if (review.request.object.kind !== 'Pod') return body; // only Pods are pinned
  for (const c of review.request.object.spec?.containers ?? []) if (!c.image.includes('@')) c.image = `${c.image}@${digestOf(c.image)}`;
  return JSON.stringify(review);
}

// A made-up digest for an image nobody looks up (spec-only rows).
function madeUpDigest(image: string): string {
  return `sha256:${createHash('sha256').update(image).digest('hex')}`;
}

// The digest the synthetic registry serves for each tag of the review, asked for as /mutate would.
async function registryDigests(body: string, host: string): Promise<Map<string, string>> {
  const review = JSON.parse(body) as { request: { object: { spec: { containers: Array<{ image: string }> } } } };
  const out = new Map<string, string>();
  for (const { image } of review.request.object.spec.containers) {
    const [repo, tag] = image.slice(host.length + 1).split(':') as [string, string];
    const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const digest = res.headers.get('docker-content-digest');
    if (!res.ok || !digest) throw new Error(`fake registry: expected a digest for ${image}, got ${res.status}`);
    out.set(image, digest);
  }
  return out;
}

// One measured window: a closed-loop run with the server's CPU sampled.
async function window(o: SectionOptions, target: Target, body: string, seconds: number): Promise<{ load: LoadResult; usage: ProcUsage }> {
  const sampler = startSampler(target.pid);
  const load = await closedLoop({ wrk: o.wrk, url: target.url, body, connections: 32, seconds, pin: o.pin, workDir: o.workDir });
  return { load, usage: sampler.stop() };
}

/** Rounds of measurement: every server once per round, the order reversed every other round. */
export const ROUNDS = 5;

// The payload with a liveness and a readiness probe on every container (the captured pod has none), so that every
// configuration answers "allowed" and the rows compare the cost of checks, not of denial messages.
function withProbes(body: string): string {
  const review = JSON.parse(body) as { request: { object: { spec: { containers: Array<Record<string, unknown>> } } } };
  for (const c of review.request.object.spec.containers) {
    c.livenessProbe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 };
    c.readinessProbe = { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 };
  }
  return JSON.stringify(review);
}

let BASELINE_LABEL = 'earlier build';
/** Names the baseline build in the report (e.g. its commit). */
export function labelBaseline(label: string): void {
  BASELINE_LABEL = label;
}

interface Contender {
  readonly name: string;
  readonly active: number;
  readonly body: string;
  readonly start: () => Promise<Target>;
  /** warmed by the load itself, not by one review first */
  readonly cold?: boolean;
}

// The servers measured: the baseline build (when given) and portcullis in each configuration.
async function contenders(o: SectionOptions, tagged: string, pinned: string, registry: { host: string }, publicPem: string, baselineCli?: string, rows?: RegExp): Promise<Contender[]> {
  const out: Contender[] = [];
  if (baselineCli) {
    // a build from before the policy library: its config schema knows only the five original policies
    const five = Object.fromEntries(ORIGINAL.map((id) => [id, { action: id === 'require-signed-images' ? 'off' : 'deny' }]));
    out.push({ name: `5 policies, baseline build (${BASELINE_LABEL})`, active: 4, body: pinned, start: () => startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: configYaml(five, '{ enabled: true }', ORIGINAL), cli: baselineCli, label: 'portcullis (baseline build)', nodeArgs: o.nodeArgs ?? [] }) });
  }
  for (const s of scenarios(registry.host, publicPem).filter((x) => !rows || rows.test(x.name))) {
    let body = pinned;
    if (s.images) {
      // signed repositories of the synthetic registry, pinned to the digests it serves
      const moved = tagged.replaceAll('registry.example.com/team/', `${registry.host}/bench/signed-`);
      const digests = await registryDigests(moved, registry.host);
      body = pinImages(moved, (image) => digests.get(image) as string);
    }
    const active = Object.values(s.settings).filter((v) => v.action !== 'off').length + (s.custom?.length ?? 0);
    out.push({ name: s.name, active, body, cold: s.cold === true, start: () => startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: configYaml(s.settings, s.registry, undefined, s.custom), label: `portcullis (${s.name})`, nodeArgs: o.nodeArgs ?? [] }) });
  }
  return out;
}

// The answer to one review of the contender's body ("200 allowed"), logged when it is not allowed without warnings.
async function probeAnswer(o: SectionOptions, c: Contender, target: Target): Promise<string> {
  const probe = h2Client(target.base, o.certs.ca);
  const a = await probe.post('/validate', c.body);
  probe.close();
  if (!allowed(a) || a.body.includes('"warnings"')) o.log(`policy count: ${c.name}: expected allowed without warnings, got ${a.status} ${a.body.slice(0, 600)}`);
  return `${a.status} ${allowed(a) ? 'allowed' : 'denied'}`;
}

// Runs the section: the null webhook and portcullis in every configuration all started once, then measured in
// rounds (short windows, the order reversed every other round) so that a machine whose speed drifts slows every
// server alike; each row's ratio is the median of its per-round ratios to the null webhook of the same round.
export async function runPolicyCount(o: SectionOptions, captured: Payload, baselineCli?: string, rows?: RegExp): Promise<PolicyCountResults> {
  const tagged = withProbes(captured.body);
  const payload = { ...captured, name: `${captured.name} + probes, pinned`, body: pinImages(tagged) };
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(o.workDir, 'policy-count-sign.key');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const registry = await startFakeRegistry(o.pin.loadgen, 0, keyFile);
  const started: Array<{ c: Contender; target: Target; answer: string }> = [];
  let nul: Target | undefined;
  try {
    const all = await contenders(o, tagged, payload.body, registry, publicKey.export({ type: 'spki', format: 'pem' }).toString(), baselineCli, rows);
    nul = await startNullWebhook({ workDir: o.workDir, certs: o.certs, pin: o.serverPin });
    for (const c of all) started.push({ c, target: await c.start(), answer: '' });
    // one review warms the image facts and signature caches, except for a cold row (its warm-up load does)
    for (const x of started) if (!x.c.cold) x.answer = await probeAnswer(o, x.c, x.target);
    const servers = [{ name: 'null webhook', target: nul, body: payload.body }, ...started.map((x) => ({ name: x.c.name, target: x.target, body: x.c.body }))];
    for (const x of servers) await closedLoop({ wrk: o.wrk, url: x.target.url, body: x.body, connections: 32, seconds: o.quick ? 1 : 3, pin: o.pin, workDir: o.workDir });
    for (const x of started) if (x.c.cold) x.answer = await probeAnswer(o, x.c, x.target);
    const rounds = o.quick ? 2 : ROUNDS;
    const seconds = o.quick ? 2 : 5;
    const windows = new Map<string, Array<{ load: LoadResult; usage: ProcUsage }>>(servers.map((x) => [x.name, []]));
    for (let r = 0; r < rounds; r++) {
      o.log(`policy count: round ${r + 1} of ${rounds}`);
      for (const x of r % 2 === 0 ? servers : [...servers].reverse()) windows.get(x.name)?.push(await window(o, x.target, x.body, seconds));
    }
    const nullWindows = windows.get('null webhook') ?? [];
    const rowOf = (name: string, active: number, answer: string): PolicyCountRow => {
      const ws = windows.get(name) ?? [];
      const mid = median(ws.map((w) => w.load.rps));
      return { name, active, answer, ...(ws.find((w) => w.load.rps === mid) ?? ws[0]!), ratios: ws.map((w, i) => w.load.rps / (nullWindows[i]?.load.rps ?? Number.NaN)) };
    };
    const nullRow = rowOf('null webhook', 0, '200 allowed');
    return { payload: payload.name, rounds, seconds, nullWebhook: { load: nullRow.load, usage: nullRow.usage }, rows: started.map((x) => rowOf(x.c.name, x.c.active, x.answer)) };
  } finally {
    for (const x of started) await x.target.stop();
    await nul?.stop();
    await registry.stop();
  }
}
