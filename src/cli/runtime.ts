// Wires config, fact gathering and the engine the same way for every command.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createConfigStore, staticConfigStore, loadConfigFile } from '../config/store.js';
import { withCelCompiler } from '../custom/compiler.js';
import type { ConfigStore } from '../config/store.js';
import type { Config } from '../config/types.js';
import type { Policy } from '../engine/types.js';
import type { ConfigOverride } from '../config/overrides.js';
import { createEngine } from '../engine/evaluate.js';
import type { Engine } from '../engine/evaluate.js';
import { NO_FACT_GATHERER } from '../engine/facts.js';
import type { FactGatherer } from '../engine/facts.js';
import type { ExceptionStore } from '../exceptions/store.js';
import { customPolicyIds } from '../config/custom-settings.js';
import { createImageFactsSource } from '../images/facts.js';
import type { ImageFactsSource } from '../images/facts.js';
import { registryTimings, resolveRegistryOptions } from '../images/options.js';
import { ImageResolver } from '../images/resolver.js';
import type { ImageReference } from '../images/reference.js';
import type { RegistryError } from '../images/errors.js';
import { createImageMetrics } from '../images/metrics.js';
import { resolvingGatherer } from '../images/resolution.js';
import type { RegistryOptionsInput } from '../images/options.js';
import { parsePlatform } from '../images/platform.js';
import { imageFactGatherer } from '../images/gatherer.js';
import { watchedGatherer } from '../images/watched-cache.js';
import { createPullSecretReader } from '../images/pull-secrets.js';
import type { PullSecretReader } from '../images/pull-secrets.js';
import { loadKubeConfig } from '../kube/client.js';
import { createRegistryClient } from '../images/shared-client.js';
import type { RegistryClient } from '../images/client.js';
import { attestationFactGatherer, createAttestationVerifier, createSignatureVerifier, signatureFactGatherer } from '../signatures/index.js';
import type { AttestationParams, AttestationPolicyParams, AttestationVerifier, SignatureVerifier, SignedImagesParams } from '../signatures/index.js';

export interface Runtime {
  readonly config: ConfigStore;
  readonly engine: Engine;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly configPath?: string;
  /** `--set` and `--policy ID=ACTION` overrides of the config (the CLI's audit and scan) */
  readonly overrides?: readonly ConfigOverride[];
  readonly logger: Logger;
  readonly metrics?: Registry;
  /** watch the config file and reload it on change (the server does; the CLI does not) */
  readonly watch: boolean;
  /** no registry traffic whatever the config says (offline `portcullis audit`) */
  readonly offline?: boolean;
  /** the policy list (policies/index.ts); the config is validated against it and the engine runs it */
  readonly policies?: readonly Policy[];
  /** PolicyExceptions the engine applies (the server's informer, the CLI's --exceptions files); told the config's
   * custom policy ids */
  readonly exceptions?: ExceptionStore;
}

interface Facts {
  readonly registry: Config['registry'];
  readonly source: ImageFactsSource;
  readonly client?: RegistryClient;
  readonly verifier?: SignatureVerifier;
  readonly attestations?: AttestationVerifier;
  readonly gatherer: FactGatherer;
}

// The active policies that read attestation facts (their params extend AttestationParams), with their params.
function attestationPolicies(config: Config): AttestationPolicyParams[] {
  return config.catalog.flatMap(({ id, facts }) => {
    const s = config.policies[id];
    return facts.includes('attestation') && s && s.action !== 'off' ? [{ id, params: s.params as unknown as AttestationParams }] : [];
  });
}

async function closeFacts(facts: Facts): Promise<void> {
  await facts.source.close();
  await facts.verifier?.close();
  await facts.attestations?.close();
  await facts.client?.close();
}

// Reads pull secrets with the kubeconfig in KUBECONFIG or ~/.kube/config, else the in-cluster service account.
function pullSecretReader(options: RuntimeOptions): PullSecretReader {
  return createPullSecretReader(async () => {
    const [kc, { CoreV1Api }] = await Promise.all([loadKubeConfig(), import('@kubernetes/client-node')]);
    return kc.makeApiClient(CoreV1Api);
  }, options.logger);
}

// Builds the registry client shared by image facts and signature verification, and the gatherer over both.
function factsFor(current: () => Config, options: RuntimeOptions): Facts {
  const config = current();
  const section = options.offline ? { ...config.registry, enabled: false } : config.registry;
  const registryOptions = resolveRegistryOptions(section as RegistryOptionsInput);
  const deps = { logger: options.logger, ...(options.metrics ? { metrics: options.metrics } : {}) };
  const client = registryOptions.enabled ? createRegistryClient(registryOptions, deps) : undefined;
  const timings = registryTimings(registryOptions);
  const metrics = createImageMetrics(options.metrics);
  const observe = (cache: 'tag' | 'manifest' | 'inflight' | 'failure', hit: boolean) => metrics.cache(cache === 'inflight' ? 'tag' : cache, hit);
  const log = options.logger.child({ component: 'images' });
  const onFailure = (ref: ImageReference, e: RegistryError) => log.warn({ registry: ref.registry, repository: ref.repository, code: e.code, err: e.message }, 'image look-up failed');
  const resolver = client
    ? new ImageResolver(client, { tagTtlMs: timings.tagTtlMs, failureTtlMs: timings.failureTtlMs, maxEntries: registryOptions.cache.maxEntries, maxBytes: registryOptions.cache.maxBytes, observe, onFailure })
    : undefined;
  const shared = { ...deps, ...(client ? { client } : {}), ...(resolver ? { resolver } : {}) };
  const source = createImageFactsSource(registryOptions, shared);
  const pullSecrets = registryOptions.enabled && registryOptions.usePullSecrets ? pullSecretReader(options) : undefined;
  const verifier = client ? createSignatureVerifier({}, { ...shared, client }) : undefined;
  const signatures = verifier
    ? signatureFactGatherer(verifier, {
        params: () => current().policies['require-signed-images']?.params as SignedImagesParams | undefined,
        ...(pullSecrets ? { pullSecrets } : {}),
      })
    : NO_FACT_GATHERER;
  const attestations = client ? createAttestationVerifier({}, { ...shared, client }) : undefined;
  const attested = attestations
    ? attestationFactGatherer(attestations, { policies: () => attestationPolicies(current()), ...(pullSecrets ? { pullSecrets } : {}) }, signatures)
    : signatures;
  const facts = imageFactGatherer(source, parsePlatform(registryOptions.platform), attested, pullSecrets);
  const gatherer = resolver ? resolvingGatherer(resolver, timings.timeoutMs, facts, pullSecrets) : facts;
  return { registry: config.registry, source, gatherer, ...(client ? { client } : {}), ...(verifier ? { verifier } : {}), ...(attestations ? { attestations } : {}) };
}

// Creates the config store, the fact gatherer and the engine; throws ConfigError on a bad config file.
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const config = await withCelCompiler(() =>
    options.watch
      ? createConfigStore(options.configPath, options.logger, { ...(options.policies ? { catalog: options.policies } : {}), ...(options.metrics ? { metrics: options.metrics } : {}) })
      : staticConfigStore(loadConfigFile(options.configPath, options.policies, options.overrides)),
  );
  const current = () => config.current();
  let facts = factsFor(current, options);
  config.onChange((next) => {
    if (isDeepStrictEqual(next.registry, facts.registry)) return;
    const old = facts;
    facts = factsFor(current, options);
    void closeFacts(old);
  });
  const exceptions = options.exceptions;
  if (exceptions) {
    exceptions.setCustomPolicyIds(customPolicyIds(config.current()));
    config.onChange((next) => exceptions.setCustomPolicyIds(customPolicyIds(next)));
  }
  const gatherer = watchedGatherer(() => facts.gatherer);
  const engine = createEngine({ config: current, facts: gatherer, ...(options.exceptions ? { exceptions: options.exceptions } : {}) });
  return {
    config,
    engine,
    close: async () => {
      config.close();
      await closeFacts(facts);
    },
  };
}
