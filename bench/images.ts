// Image paths (issue #8, part 3): what registry look-ups cost at admission, against a loopback registry.
// The synthetic registry (bench/fake-registry.ts) gives any number of distinct images and counts requests; the
// real CNCF distribution registry (test/helpers/registry.ts + pushTestImages) gives a first-seen figure against
// a real registry server, with requests counted at the test fault proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { allowed, h2Client, mean, pct, type Answer } from './client.js';
import { closedLoop, type LoadResult, type SectionOptions } from './load.js';
import { benchContainer, imagePodReview, podReview } from './payloads.js';
import { getText, startPortcullis, type Target } from './targets.js';
import { DEFAULT_CONFIG_YAML } from '../src/config/defaults.js';
import { REPO_ROOT } from './tools.js';

export interface FakeRegistry {
  /** host:port */
  readonly host: string;
  readonly pid: number;
  stats(): Promise<{ total: number; byRepository: Record<string, number>; byKind: Record<string, number> }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

// Starts bench/fake-registry.ts and waits for its port.
export async function startFakeRegistry(pin: readonly string[], delayMs = 0, signKeyFile?: string): Promise<FakeRegistry> {
  const child: ChildProcess = spawn(
    [...pin, process.execPath][0] as string,
    [...pin.slice(1), ...(pin.length ? [process.execPath] : []), '--import', join(REPO_ROOT, 'bench', 'hooks.ts'), join(REPO_ROOT, 'bench', 'fake-registry.ts'), '--delay-ms', String(delayMs), ...(signKeyFile ? ['--sign-key', signKeyFile] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  process.on('exit', () => child.kill('SIGKILL'));
  const host = await new Promise<string>((resolveHost, reject) => {
    const timer = setTimeout(() => reject(new Error('fake registry: expected "listening on", got nothing in 20 s')), 20_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolveHost(line.replace('listening on ', '').trim());
    });
    child.once('exit', (code) => reject(new Error(`fake registry exited with ${code}`)));
  });
  const base = `http://${host}`;
  return {
    host,
    pid: child.pid as number,
    stats: async () => (await (await fetch(`${base}/_stats`)).json()) as Awaited<ReturnType<FakeRegistry['stats']>>,
    reset: async () => void (await fetch(`${base}/_reset`, { method: 'POST' })),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// The built-in default config, with the registry client allowed to speak plain HTTP to the loopback registry.
export function registryConfig(hosts: readonly string[], cache: Record<string, unknown> = {}): string {
  const cacheYaml = Object.keys(cache).length ? `\n  cache: ${JSON.stringify(cache)}` : '';
  const config = DEFAULT_CONFIG_YAML.replace(/^( {2}enabled: true\b.*)$/m, `$1\n  insecure: ${JSON.stringify(hosts)}${cacheYaml}`);
  if (config === DEFAULT_CONFIG_YAML) throw new Error('expected "  enabled: true" under registry in the default config');
  return config;
}

export interface Stat {
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  n: number;
}

function stat(us: readonly number[]): Stat {
  return { p50Us: pct(us, 50), p99Us: pct(us, 99), maxUs: pct(us, 100), meanUs: mean(us), n: us.length };
}

export interface ImageResults {
  registry: 'synthetic';
  /** wrk, 1 connection: a 1-container pod with runAsUser (no image fact needed) vs. one whose image fact is cached */
  cachedFact: { noFact: LoadResult; cached: LoadResult; addedP50Us: number; addedMeanUs: number };
  /** sequential admissions, each of a never-seen image, vs. the same pods once cached */
  firstSeen: { cold: Stat; warm: Stat; noFact: Stat; requestsPerImage: number; allAllowed: boolean };
  /** the same with require-signed-images at deny: manifest + config + cosign v2 signature (another portcullis) */
  firstSeenSigned: { cold: Stat; warm: Stat; requestsPerImage: number; allAllowed: boolean };
  /** one pod with 100 distinct images */
  hundred: { cold: Stat; warm: Stat; requestsPerColdRound: number; rounds: number };
  /** concurrent admissions of one never-seen image */
  herd: { concurrent: number; rounds: number; requestsPerRound: number[]; latency: Stat; allAllowed: boolean };
}

async function sequential(client: ReturnType<typeof h2Client>, bodies: readonly string[]): Promise<{ us: number[]; answers: Answer[] }> {
  const us: number[] = [];
  const answers: Answer[] = [];
  for (const body of bodies) {
    const a = await client.post('/validate', body);
    us.push(a.us);
    answers.push(a);
  }
  return { us, answers };
}

// Runs every image scenario against one portcullis whose registry is a fresh synthetic registry.
export async function runImageScenarios(o: SectionOptions): Promise<ImageResults> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyFile = join(o.workDir, 'registry-sign-key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const registry = await startFakeRegistry(o.pin.loadgen, 0, keyFile);
  let target: Target | undefined;
  let client: ReturnType<typeof h2Client> | undefined;
  try {
    target = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: registryConfig([registry.host]), label: 'portcullis (images)', nodeArgs: o.nodeArgs ?? [] });
    client = h2Client(target.base, o.certs.ca, 1);
    const ref = (name: string) => `${registry.host}/bench/${name}:1.0`;
    const seconds = o.quick ? 1 : 8;

    // 1. what a cached image fact adds: same pod shape, with and without the need for the fact
    o.log('images: cached fact vs no fact (wrk, 1 connection)');
    const noFactBody = JSON.stringify(podReview('bench-nofact', [benchContainer(0, { image: ref('cached') })]));
    const cachedBody = imagePodReview([ref('cached')], 'bench-cached');
    await client.post('/validate', cachedBody); // warm the cache
    await closedLoop({ wrk: o.wrk, url: target.url, body: cachedBody, connections: 1, seconds: 1, pin: o.pin, workDir: o.workDir });
    const noFact = await closedLoop({ wrk: o.wrk, url: target.url, body: noFactBody, connections: 1, seconds, pin: o.pin, workDir: o.workDir });
    const cached = await closedLoop({ wrk: o.wrk, url: target.url, body: cachedBody, connections: 1, seconds, pin: o.pin, workDir: o.workDir });

    // 2. first-seen images, one at a time
    const n = o.quick ? 30 : 300;
    o.log(`images: ${n} first-seen images, sequential`);
    const firstBodies = Array.from({ length: n }, (_, i) => imagePodReview([ref(`first-${i}`)], `bench-first-${i}`));
    const noFactBodies = Array.from({ length: n }, (_, i) => JSON.stringify(podReview(`bench-nf-${i}`, [benchContainer(0, { image: ref(`first-${i}`) })])));
    await registry.reset();
    const cold = await sequential(client, firstBodies);
    const coldRequests = (await registry.stats()).total;
    const warm = await sequential(client, firstBodies);
    const base = await sequential(client, noFactBodies);

    // 3. one pod with 100 distinct images, cold then warm
    const rounds = o.quick ? 2 : 10;
    o.log(`images: pod of 100 distinct images, ${rounds} rounds`);
    const hundredCold: number[] = [];
    const hundredWarm: number[] = [];
    let hundredRequests = 0;
    for (let r = 0; r < rounds; r++) {
      const body = imagePodReview(Array.from({ length: 100 }, (_, i) => ref(`hundred-${r}-${i}`)), `bench-hundred-${r}`);
      await registry.reset();
      hundredCold.push((await client.post('/validate', body)).us);
      hundredRequests += (await registry.stats()).total;
      for (let w = 0; w < 5; w++) hundredWarm.push((await client.post('/validate', body)).us);
    }

    // 4. a thundering herd: many concurrent admissions of one never-seen image, over 8 HTTP/2 connections
    const concurrent = 500;
    const herdRounds = o.quick ? 1 : 5;
    o.log(`images: ${concurrent} concurrent admissions of one new image, ${herdRounds} rounds`);
    const herdClient = h2Client(target.base, o.certs.ca, 8);
    const perRound: number[] = [];
    const herdUs: number[] = [];
    let herdAllowed = true;
    try {
      for (let r = 0; r < herdRounds; r++) {
        const repository = `bench/herd-${r}`;
        const body = imagePodReview([`${registry.host}/${repository}:1.0`], `bench-herd-${r}`);
        await registry.reset();
        const answers = await Promise.all(Array.from({ length: concurrent }, () => herdClient.post('/validate', body)));
        for (const a of answers) {
          herdUs.push(a.us);
          if (a.status !== 200 || !allowed(a)) herdAllowed = false;
        }
        perRound.push((await registry.stats()).byRepository[repository] ?? 0);
      }
    } finally {
      herdClient.close();
    }


    // 5. first-seen signed images, one at a time, with require-signed-images at deny (its own portcullis)
    o.log(`images: ${n} first-seen signed images, sequential`);
    const signedBodies = Array.from({ length: n }, (_, i) => imagePodReview([ref(`signed-${i}`)], `bench-signed-${i}`));
    const signedTarget = await startPortcullis({
      workDir: o.workDir, certs: o.certs, pin: o.serverPin, label: 'portcullis (images, signed)', nodeArgs: o.nodeArgs ?? [],
      config: signedConfig([registry.host], publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    });
    const signedClient = h2Client(signedTarget.base, o.certs.ca, 1);
    let signed: ImageResults['firstSeenSigned'];
    try {
      await signedClient.post('/validate', imagePodReview([ref('signed-warmup')], 'bench-signed-warmup'));
      await registry.reset();
      const cold = await sequential(signedClient, signedBodies);
      const requests = (await registry.stats()).total;
      const warm = await sequential(signedClient, signedBodies);
      signed = { cold: stat(cold.us), warm: stat(warm.us), requestsPerImage: requests / n, allAllowed: [...cold.answers, ...warm.answers].every((a) => a.status === 200 && allowed(a)) };
    } finally {
      signedClient.close();
      await signedTarget.stop();
    }

    return {
      registry: 'synthetic',
      firstSeenSigned: signed,
      cachedFact: { noFact, cached, addedP50Us: cached.p50Us - noFact.p50Us, addedMeanUs: cached.meanUs - noFact.meanUs },
      firstSeen: {
        cold: stat(cold.us),
        warm: stat(warm.us),
        noFact: stat(base.us),
        requestsPerImage: coldRequests / n,
        allAllowed: cold.answers.every((a) => a.status === 200 && allowed(a)),
      },
      hundred: { cold: stat(hundredCold), warm: stat(hundredWarm), requestsPerColdRound: hundredRequests / rounds, rounds },
      herd: { concurrent, rounds: herdRounds, requestsPerRound: perRound, latency: stat(herdUs), allAllowed: herdAllowed },
    };
  } finally {
    client?.close();
    await target?.stop();
    await registry.stop();
  }
}

/** One portcullis process against the real registry: a warm-up admission, then N first-seen images, then again. */
export interface RealRegistryCase {
  /** the first admission of the fresh process (another image): connection, JIT and lazy loading included */
  firstAdmissionUs: number;
  cold: Stat;
  warm: Stat;
  requestsPerImage: number;
  allAllowed: boolean;
}

export interface RealRegistryResults {
  images: number;
  /** manifest + config (require-signed-images off) */
  facts: RealRegistryCase;
  /** manifest + config + signature: half signed the cosign v2 way (.sig tag), half the v3 way (bundle referrer) */
  signed: RealRegistryCase;
  /** the registry alone: sequential GETs from the bench process (no portcullis) */
  registryOwn: { manifest: Stat; blob: Stat };
}

// The registry's own answer time: a manifest GET by tag and a config blob GET per image, one at a time.
async function registryOwnLatency(host: string, refs: readonly string[]): Promise<RealRegistryResults['registryOwn']> {
  const { request } = await import('undici');
  const manifest: number[] = [];
  const blob: number[] = [];
  for (const ref of refs) {
    const [name, tag] = ref.slice(host.length + 1).split(':') as [string, string];
    let t = performance.now();
    const m = await request(`http://${host}/v2/${name}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const doc = (await m.body.json()) as { config: { digest: string } };
    manifest.push((performance.now() - t) * 1000);
    t = performance.now();
    const b = await request(`http://${host}/v2/${name}/blobs/${doc.config.digest}`);
    await b.body.dump();
    blob.push((performance.now() - t) * 1000);
  }
  return { manifest: stat(manifest), blob: stat(blob) };
}

// Sums portcullis_registry_requests_total over its labels in a /metrics text.
export function registryRequests(metrics: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) if (line.startsWith('portcullis_registry_requests_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

// The default config with require-signed-images at deny, trusting one key for every image.
export function signedConfig(hosts: readonly string[], publicPem: string): string {
  const policy = { action: 'deny', authorities: { 'bench-key': { key: publicPem, ignoreTlog: true } }, images: [{ pattern: '**', authorities: ['bench-key'] }] };
  return registryConfig(hosts).replace('require-signed-images: { action: off }', `require-signed-images: ${JSON.stringify(policy)}`);
}

// First-seen latency against Debian's docker-registry (CNCF distribution): distinct images, each signed with a
// key as cosign does (v2: sha256-<hex>.sig manifest; v3: Sigstore bundle referrer through the referrers tag),
// admitted one at a time by a portcullis that has served one other image; registry requests from its /metrics.
export async function runRealRegistry(o: SectionOptions): Promise<RealRegistryResults> {
  const { startRegistry } = await import('../test/helpers/registry.js');
  const { RegistryWriter, keyBundle, keyPair, legacySignWithKey, pushBundleReferrer, signStatement } = await import('../test/helpers/cosign-format.js');
  // off the server's CPU like the load generators; one Go scheduler thread (cross-CPU wake-ups double its latency here)
  const registry = await startRegistry({ auth: 'none', tls: false, pin: ['env', 'GOMAXPROCS=1', ...o.pin.loadgen] });
  try {
    const n = o.quick ? 10 : 100;
    o.log(`images: real registry: pushing ${n + 2} signed images`);
    const writer = new RegistryWriter(registry.host);
    const key = keyPair('p256');
    const push = async (repository: string, i: number) => {
      const image = await writer.image(repository, repository, '1.0');
      if (i % 2 === 0) await legacySignWithKey(writer, image, key.privateKey);
      else await pushBundleReferrer(writer, image, keyBundle(key.privateKey, signStatement(image.digest)));
      return `${image.name}:1.0`;
    };
    const refs: string[] = [];
    for (let i = 0; i < n; i++) refs.push(await push(`bench/signed-${i}`, i));
    const warmups = [await push('bench/warmup-facts', 0), await push('bench/warmup-signed', 1)];
    const bodies = refs.map((ref, i) => imagePodReview([ref], `bench-real-${i}`));
    const own = await registryOwnLatency(registry.host, refs);

    const runCase = async (label: string, config: string, warmup: string): Promise<RealRegistryCase> => {
      o.log(`images: real registry: ${label}`);
      const target = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config, label: `portcullis (real registry, ${label})`, nodeArgs: o.nodeArgs ?? [] });
      const client = h2Client(target.base, o.certs.ca, 1);
      try {
        const first = await client.post('/validate', imagePodReview([warmup], `bench-warmup-${label}`));
        const before = registryRequests(await getText(`${target.base}/metrics`, o.certs.ca));
        const cold = await sequential(client, bodies);
        const requests = registryRequests(await getText(`${target.base}/metrics`, o.certs.ca)) - before;
        const warm = await sequential(client, bodies);
        const allAllowed = [first, ...cold.answers, ...warm.answers].every((a) => a.status === 200 && allowed(a));
        return { firstAdmissionUs: first.us, cold: stat(cold.us), warm: stat(warm.us), requestsPerImage: requests / n, allAllowed };
      } finally {
        client.close();
        await target.stop();
      }
    };
    const facts = await runCase('manifest + config', registryConfig([registry.host]), warmups[0] as string);
    const signed = await runCase('manifest + config + signature', signedConfig([registry.host], key.publicPem), warmups[1] as string);
    return { images: n, facts, signed, registryOwn: own };
  } finally {
    await registry.stop();
  }
}
