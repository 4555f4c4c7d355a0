// Attestation verification in the formats cosign writes, made here where real cosign cannot (keyless with a mock
// Fulcio/Rekor, malformed envelopes), and its bounds: one registry round for concurrent look-ups, the deadline.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import { attestationDefaults } from '../../policies/attestation-params.js';
import { createAttestationVerifier, type AttestationParams } from '../../src/signatures/index.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { BUNDLE_V03, RegistryWriter, addToReferrersIndex, pushBundleReferrer, signStatement, type PushedImage } from '../helpers/cosign-format.js';
import { mockSigstore, type MockSigstore } from '../helpers/cosign-keyless.js';
import { startFaultProxy, type FaultProxy } from '../helpers/registry-proxy.js';
import { VULN_PREDICATE } from '../helpers/attestations.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/example/app/.github/workflows/scan.yml@refs/heads/main';
const DSSE = 'application/vnd.dsse.envelope.v1+json';

let registry: TestRegistry;
let proxy: FaultProxy;
let w: RegistryWriter;
let client: RegistryClient;
let sigstore: MockSigstore;
let dir: string;
let rootPath: string;
let seq = 0;

const params = (over: Partial<AttestationParams> = {}): AttestationParams => ({
  ...attestationDefaults([VULN_PREDICATE]),
  trustedRoot: rootPath,
  authorities: { scanner: { keyless: { issuer: ISSUER, subject: SUBJECT } } },
  images: [{ pattern: '**', authorities: ['scanner'] }],
  ...over,
});
const image = (): Promise<PushedImage> => w.image(`att/verify${++seq}`, `seed-${seq}-${Math.random()}`, 'v1');
const through = (img: PushedImage) => img.ref.replace(registry.host, proxy.host);

// A keyless bundle over a vuln statement for the image, as a referrer listed in the referrers tag index.
async function keylessAttestation(img: PushedImage, subject = SUBJECT): Promise<void> {
  const signer = await sigstore.issue(subject, ISSUER);
  const m = await pushBundleReferrer(w, img, await sigstore.bundle(signer, signStatement(img.digest, VULN_PREDICATE)), { fallbackIndex: false });
  await addToReferrersIndex(w, img, [{ ...m, artifactType: BUNDLE_V03 }]);
}

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none', tls: false });
  proxy = await startFaultProxy(registry.url);
  w = new RegistryWriter(registry.host);
  client = new RegistryClient({ insecure: [registry.host, proxy.host], maxTries: 1 });
  dir = mkdtempSync(join(tmpdir(), 'portcullis-att-'));
  sigstore = await mockSigstore();
  rootPath = sigstore.writeTrustedRoot(dir);
});

afterAll(async () => {
  await client?.close();
  await proxy?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => proxy.reset());

describe('keyless attestations (mock Fulcio, CT log and Rekor)', () => {
  it('verifies a keyless bundle from the configured identity, and refuses another identity', async () => {
    const v = createAttestationVerifier({ tagTtlMs: 0 }, { client });
    const good = await image();
    await keylessAttestation(good);
    const fact = await v.verify(good.ref, params(), { deadline: Date.now() + 10_000 });
    expect(fact.code, fact.message).toBe('VERIFIED');
    expect(fact.attestations).toMatchObject([{ predicateType: VULN_PREDICATE, authority: 'scanner' }]);
    const fork = await image();
    await keylessAttestation(fork, 'https://github.com/mallory/fork/.github/workflows/scan.yml@refs/heads/main');
    const denied = await v.verify(fork.ref, params(), { deadline: Date.now() + 10_000 });
    expect(denied.code).toBe('UNTRUSTED_SIGNER');
    expect(denied.message).toContain('mallory');
  });
});

describe('malformed attestations', () => {
  it('turn a garbage .att envelope into MALFORMED, never an exception', async () => {
    const img = await image();
    const config = await w.blob(img.repository, Buffer.from('{}'));
    const layer = await w.blob(img.repository, Buffer.from('{"payloadType":"application/vnd.in-toto+json","payload":"bm90IGpzb24=","signatures":[{"sig":"AAAA"}]}'));
    await w.manifest(img.repository, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: DSSE, digest: layer.digest, size: layer.size, annotations: { predicateType: VULN_PREDICATE } }],
    }, `${img.digest.replace(':', '-')}.att`);
    const fact = await createAttestationVerifier({ tagTtlMs: 0 }, { client }).verify(img.ref, params(), { deadline: Date.now() + 10_000 });
    expect(fact.code).toBe('MALFORMED');
  });
});

describe('bounds', () => {
  it('shares one registry round between concurrent look-ups of one image', async () => {
    const img = await image();
    await keylessAttestation(img);
    const metrics = new Registry();
    const v = createAttestationVerifier({ tagTtlMs: 0 }, { client, metrics });
    const one = createAttestationVerifier({ tagTtlMs: 0 }, { client });
    await one.verify(through(img), params(), { deadline: Date.now() + 10_000 });
    const single = proxy.seen.length;
    proxy.reset();
    const facts = await Promise.all(Array.from({ length: 8 }, () => v.verify(through(img), params(), { deadline: Date.now() + 10_000 })));
    expect(facts.map((f) => f.code)).toEqual(Array(8).fill('VERIFIED'));
    expect(proxy.seen.length).toBe(single);
    expect(await metrics.getSingleMetricAsString('portcullis_attestation_verifications_total')).toContain('portcullis_attestation_verifications_total{result="verified"} 8');
  });

  it('answers REGISTRY_ERROR by the deadline when the registry hangs', async () => {
    const img = await image();
    proxy.inject({ fault: { kind: 'hang' }, times: Infinity });
    const fact = await createAttestationVerifier({ tagTtlMs: 0 }, { client }).verify(through(img), params(), { deadline: Date.now() + 300 });
    expect(fact.code).toBe('REGISTRY_ERROR');
  });
});
