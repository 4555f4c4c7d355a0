// Signature verification against a real registry (Debian's docker-registry, no referrers API) with signatures
// written in cosign's formats: key-based (every key type), keyless (mock Fulcio/Rekor), and the attacks.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import { createSignatureVerifier, signatureParamsProblems, type SignatureVerifier, type SignedImagesParams } from '../../src/signatures/index.js';
import { SIGNED_IMAGES_DEFAULTS } from '../../policies/require-signed-images/params.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  RegistryWriter, addToReferrersIndex, keyBundle, keyPair, legacySignWithKey, pushBundleReferrer, pushLegacySignature, signBytes,
  signStatement, simpleSigningPayload, type PushedImage,
} from '../helpers/cosign-format.js';
import { mockSigstore, type MockSigstore } from '../helpers/cosign-keyless.js';
import { startOcireg, toolPath } from '../helpers/cosign-cli.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';
import { keyId } from '../../src/signatures/keys.js';

let registry: TestRegistry;
let w: RegistryWriter;
let client: RegistryClient;
let requests = 0;
let dir: string;
let sigstore: MockSigstore;
let rootPath: string;
const team = keyPair('p256');
const other = keyPair('p256');
const ISSUER = 'https://issuer.portcullis.test';
const SUBJECT = 'https://github.com/example/app/.github/workflows/release.yml@refs/heads/main';

const deadline = () => Date.now() + 10_000;
// the key hint cosign v3 writes into a bundle: base64 of the key's SPKI sha256
const hintOf = (key: import('node:crypto').KeyObject) => Buffer.from(keyId(key), 'hex').toString('base64');

function params(over: Partial<SignedImagesParams> = {}): SignedImagesParams {
  return {
    ...SIGNED_IMAGES_DEFAULTS,
    trustedRoot: rootPath,
    authorities: {
      'team-key': { key: team.publicPem, ignoreTlog: true },
      release: { keyless: { issuer: ISSUER, subject: SUBJECT } },
    },
    images: [{ pattern: `${registry.host}/**`, authorities: ['team-key'] }],
    ...over,
  };
}

function verifier(opts = {}): SignatureVerifier {
  return createSignatureVerifier({ tagTtlMs: 0, ...opts }, { client });
}

let seq = 0;
const image = (tag?: string): Promise<PushedImage> => w.image(`sig/app${++seq}`, `seed-${seq}-${Math.random()}`, tag);

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none', tls: false });
  w = new RegistryWriter(registry.host);
  client = new RegistryClient({ insecure: [registry.host], observe: () => void requests++, maxTries: 1 });
  dir = mkdtempSync(join(tmpdir(), 'portcullis-sig-'));
  sigstore = await mockSigstore();
  rootPath = sigstore.writeTrustedRoot(dir);
});

afterAll(async () => {
  await client?.close();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('key-based signatures', () => {
  for (const kind of ['p256', 'p384', 'rsa', 'ed25519'] as const) {
    it(`verifies a legacy .sig signature by an ${kind} key`, async () => {
      const kp = kind === 'p256' ? team : keyPair(kind);
      const img = await image();
      await legacySignWithKey(w, img, kp.privateKey);
      const fact = await verifier().verify(img.ref, params({ authorities: { k: { key: kp.publicPem, ignoreTlog: true } }, images: [{ pattern: '**', authorities: ['k'] }] }), { deadline: deadline() });
      expect(fact).toMatchObject({ status: 'verified', code: 'VERIFIED', authorities: ['k'] });
    });
    it(`verifies a v0.3 bundle referrer (tag-schema fallback) by an ${kind} key`, async () => {
      const kp = kind === 'p256' ? team : keyPair(kind);
      const img = await image();
      await pushBundleReferrer(w, img, keyBundle(kp.privateKey, signStatement(img.digest)));
      const fact = await verifier().verify(img.ref, params({ authorities: { k: { key: kp.publicPem, ignoreTlog: true } }, images: [{ pattern: '**', authorities: ['k'] }] }), { deadline: deadline() });
      expect(fact).toMatchObject({ status: 'verified', code: 'VERIFIED' });
    });
  }

  it('says when there is no signature at all', async () => {
    const img = await image();
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'NOT_FOUND', found: 0, digest: img.digest });
  });

  it('denies a legacy signature by another key without claiming which: it names no key (KEY_MISMATCH)', async () => {
    const img = await image();
    await legacySignWithKey(w, img, other.privateKey);
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'KEY_MISMATCH', image: `${img.name}@${img.digest.slice(0, 19)}…`, authorities: ['team-key'], found: 1 });
  });

  it('denies a v2 signature copied from another image as OTHER_DIGEST, before any key is tried', async () => {
    const a = await image();
    const b = await image();
    // b's real .sig manifest (payload and signature by the trusted key), pushed under a's .sig tag
    const signed = await legacySignWithKey(w, b, team.privateKey);
    const manifest = await (await fetch(`${registry.url}/v2/${b.repository}/manifests/${signed.digest}`, { headers: { accept: signed.mediaType } })).json() as { layers: Array<{ digest: string }> };
    const payload = Buffer.from(await (await fetch(`${registry.url}/v2/${b.repository}/blobs/${manifest.layers[0]?.digest}`)).arrayBuffer());
    await Promise.all([w.blob(a.repository, payload), w.blob(a.repository, Buffer.from('{}'))]);
    await w.manifest(a.repository, manifest, `${a.digest.replace(':', '-')}.sig`);
    const fact = await verifier().verify(a.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'OTHER_DIGEST', found: 1, evidence: [`signature over another digest (${b.digest.slice(0, 19)}…)`] });
  });

  it('denies a bundle whose statement names another digest as OTHER_DIGEST', async () => {
    const a = await image();
    const b = await image();
    await pushBundleReferrer(w, a, keyBundle(team.privateKey, signStatement(b.digest)));
    const fact = await verifier().verify(a.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'OTHER_DIGEST' });
  });

  it('denies an altered v2 payload as KEY_MISMATCH, and the denial does not blame another key alone', async () => {
    const img = await image();
    const good = simpleSigningPayload(img.name, img.digest);
    const signature = signBytes(team.privateKey, good);
    const tampered = Buffer.from(good.toString('utf8').replace('"optional":null', '"optional":{"tampered":"yes"}'));
    await pushLegacySignature(w, img, [{ payload: tampered, signature }]);
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'KEY_MISMATCH', found: 1 });
    const { problemOf } = await import('../../policies/require-signed-images/messages.js');
    expect(problemOf(fact, img.ref)).toMatch(/\(found 1: does not verify with key sha256:[0-9a-f]{12}…: signed by another key, or its payload was altered\)$/);
  });

  it('denies an altered bundle that names the trusted key as SIGNATURE_INVALID', async () => {
    const img = await image();
    const bundle = keyBundle(team.privateKey, signStatement(img.digest), hintOf(team.publicKey)) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    statement.predicate = { evil: true };
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await pushBundleReferrer(w, img, bundle);
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'SIGNATURE_INVALID' });
    expect(fact.evidence?.[0]).toMatch(/^names key sha256:[0-9a-f]{12}… but does not verify: the signed content was altered$/);
  });

  it('denies a bundle whose key hint names another key as UNTRUSTED_SIGNER, and one naming no key as KEY_MISMATCH', async () => {
    const named = await image();
    await pushBundleReferrer(w, named, keyBundle(other.privateKey, signStatement(named.digest), hintOf(other.publicKey)));
    expect(await verifier().verify(named.ref, params(), { deadline: deadline() })).toMatchObject({ status: 'unverified', code: 'UNTRUSTED_SIGNER' });
    const bare = await image();
    await pushBundleReferrer(w, bare, keyBundle(other.privateKey, signStatement(bare.digest)));
    expect(await verifier().verify(bare.ref, params(), { deadline: deadline() })).toMatchObject({ status: 'unverified', code: 'KEY_MISMATCH' });
  });

  it('does not count an attestation (other predicate type) as a signature', async () => {
    const img = await image();
    await pushBundleReferrer(w, img, keyBundle(team.privateKey, signStatement(img.digest, 'https://slsa.dev/provenance/v1')));
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'WRONG_PREDICATE_TYPE' });
  });

  it('requires a transparency log entry for a key authority unless ignoreTlog', async () => {
    const img = await image();
    await legacySignWithKey(w, img, team.privateKey);
    const fact = await verifier().verify(img.ref, params({ authorities: { 'team-key': { key: team.publicPem } } }), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'TLOG_MISSING' });
  });

  it('verifies a key signature with a Rekor entry against the trusted root, and refuses a forged SET', async () => {
    const img = await image();
    const layer = await sigstore.keyLegacyLayer(team.privateKey, team.publicPem, img);
    await pushLegacySignature(w, img, [layer]);
    const withTlog = params({ authorities: { 'team-key': { key: team.publicPem } } });
    expect((await verifier().verify(img.ref, withTlog, { deadline: deadline() })).status).toBe('verified');
    const forged = await image();
    const rogue = await mockSigstore();
    await pushLegacySignature(w, forged, [await rogue.keyLegacyLayer(team.privateKey, team.publicPem, forged)]);
    const fact = await verifier().verify(forged.ref, withTlog, { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'SIGNATURE_INVALID' });
  });

  it('checks the docker-reference when matchReference is set', async () => {
    const img = await image();
    await legacySignWithKey(w, img, team.privateKey, { reference: 'elsewhere.example.com/app' });
    const v = verifier();
    expect((await v.verify(img.ref, params(), { deadline: deadline() })).status).toBe('verified');
    const strict = await v.verify(img.ref, params({ images: [{ pattern: '**', authorities: ['team-key'], matchReference: true }] }), { deadline: deadline() });
    expect(strict).toMatchObject({ status: 'unverified', code: 'WRONG_REFERENCE' });
    expect(strict.evidence?.[0]).toContain('elsewhere.example.com/app');
  });
});

describe('keyless signatures (mock Fulcio, CT log and Rekor)', () => {
  const keyless = (over: Partial<SignedImagesParams> = {}) => params({ images: [{ pattern: '**', authorities: ['release'] }], ...over });

  it('verifies a legacy keyless signature (certificate + Rekor SET)', async () => {
    const img = await image();
    const signer = await sigstore.issue(SUBJECT, ISSUER);
    await pushLegacySignature(w, img, [await sigstore.legacyLayer(signer, img)]);
    const fact = await verifier().verify(img.ref, keyless(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'verified', code: 'VERIFIED', authorities: ['release'] });
    expect(fact.evidence?.[0]).toContain(SUBJECT);
  });

  it('verifies a keyless bundle referrer, and a subject regexp', async () => {
    const img = await image();
    const signer = await sigstore.issue(SUBJECT, ISSUER);
    await pushBundleReferrer(w, img, await sigstore.bundle(signer, signStatement(img.digest)));
    const v = verifier();
    expect((await v.verify(img.ref, keyless(), { deadline: deadline() })).status).toBe('verified');
    const re = keyless({ authorities: { release: { keyless: { issuer: ISSUER, subjectRegExp: 'https://github\\.com/example/.*' } } } });
    expect((await v.verify(img.ref, re, { deadline: deadline() })).status).toBe('verified');
  });

  it('denies an identity that does not match, naming the signer', async () => {
    const img = await image();
    const signer = await sigstore.issue('https://github.com/mallory/fork/.github/workflows/x.yml@refs/heads/main', ISSUER);
    await pushLegacySignature(w, img, [await sigstore.legacyLayer(signer, img)]);
    const fact = await verifier().verify(img.ref, keyless(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'UNTRUSTED_SIGNER' });
    expect(fact.evidence?.[0]).toContain('valid signature from https://github.com/mallory/fork');
  });

  it('denies another issuer', async () => {
    const img = await image();
    const signer = await sigstore.issue(SUBJECT, 'https://evil-issuer.test');
    await pushBundleReferrer(w, img, await sigstore.bundle(signer, signStatement(img.digest)));
    const fact = await verifier().verify(img.ref, keyless(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'UNTRUSTED_SIGNER' });
  });

  it('denies an expired certificate (not valid when logged)', async () => {
    const img = await image();
    const signer = await sigstore.issue(SUBJECT, ISSUER, { clock: new Date(Date.now() - 3_600_000) });
    await pushLegacySignature(w, img, [await sigstore.legacyLayer(signer, img)]);
    const fact = await verifier().verify(img.ref, keyless(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'SIGNATURE_INVALID' });
    expect(fact.evidence?.[0]).toMatch(/\(expired or not yet valid\)$/);
    // the same CA's certificate issued two minutes ago (still valid) verifies
    const fresh = await image();
    const recent = await sigstore.issue(SUBJECT, ISSUER, { clock: new Date(Date.now() - 120_000) });
    await pushLegacySignature(w, fresh, [await sigstore.legacyLayer(recent, fresh)]);
    expect((await verifier().verify(fresh.ref, keyless(), { deadline: deadline() })).status).toBe('verified');
  });

  it('denies a certificate from an untrusted CA', async () => {
    const img = await image();
    const rogue = await mockSigstore();
    const signer = await rogue.issue(SUBJECT, ISSUER);
    await pushLegacySignature(w, img, [await rogue.legacyLayer(signer, img)]);
    const fact = await verifier().verify(img.ref, keyless(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'SIGNATURE_INVALID' });
  });

  it('denies a keyless signature without SCT or without Rekor entry', async () => {
    const a = await image();
    await pushLegacySignature(w, a, [await sigstore.legacyLayer(await sigstore.issue(SUBJECT, ISSUER, { withoutSct: true }), a)]);
    expect(await verifier().verify(a.ref, keyless(), { deadline: deadline() })).toMatchObject({ status: 'unverified', code: 'SIGNATURE_INVALID' });
    const b = await image();
    await pushBundleReferrer(w, b, await sigstore.bundle(await sigstore.issue(SUBJECT, ISSUER), signStatement(b.digest), { tlog: false }));
    expect(await verifier().verify(b.ref, keyless(), { deadline: deadline() })).toMatchObject({ status: 'unverified', code: 'SIGNATURE_INVALID' });
  });

  it('does not accept a bare-key signature for a keyless authority', async () => {
    const img = await image();
    await legacySignWithKey(w, img, team.privateKey);
    const fact = await verifier().verify(img.ref, keyless(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'UNTRUSTED_SIGNER' });
  });
});

describe('structure attacks and limits', () => {
  it('denies a .sig tag that points at the image itself', async () => {
    const img = await image();
    const res = await fetch(`${registry.url}/v2/${img.repository}/manifests/${img.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const body = await res.json() as object;
    await w.manifest(img.repository, body, `${img.digest.replace(':', '-')}.sig`);
    await addToReferrersIndex(w, img, [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: 1, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }]);
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'OTHER_DIGEST' });
    expect(fact.evidence).toContain('referrer points at the image itself');
  });

  it('refuses a signature manifest with thousands of layers without fetching them', async () => {
    const img = await image();
    const payload = simpleSigningPayload(img.name, img.digest);
    const layer = { payload, signature: signBytes(other.privateKey, payload) };
    await pushLegacySignature(w, img, Array.from({ length: 2000 }, () => layer));
    const before = requests;
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'MALFORMED' });
    expect(requests - before).toBeLessThan(10);
  });

  it('refuses a huge signature payload', async () => {
    const img = await image();
    const huge = Buffer.concat([simpleSigningPayload(img.name, img.digest), Buffer.alloc(1024 * 1024, 32)]);
    await pushLegacySignature(w, img, [{ payload: huge, signature: signBytes(team.privateKey, huge) }]);
    const fact = await verifier().verify(img.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'MALFORMED' });
  });

  it('ignores a referrer whose subject is another image', async () => {
    const a = await image();
    const b = await image();
    await pushBundleReferrer(w, a, keyBundle(team.privateKey, signStatement(a.digest)), { subjectDigest: b.digest });
    const fact = await verifier().verify(a.ref, params(), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'OTHER_DIGEST', evidence: ['referrer names another subject'] });
  });
});

describe('binding, rules and counts', () => {
  it('verifies a tag at its current digest and warns that tags move; a moved tag is checked again', async () => {
    const repo = `sig/moving${++seq}`;
    const signed = await w.image(repo, 'moving-1', 'v1');
    await legacySignWithKey(w, signed, team.privateKey);
    const v = verifier();
    const ref = `${signed.name}:v1`;
    const first = await v.verify(ref, params(), { deadline: deadline() });
    expect(first).toMatchObject({ status: 'verified', code: 'VERIFIED', verifiedAtTag: 'v1' });
    await w.image(repo, 'moving-2', 'v1'); // the tag now names an unsigned image
    const second = await v.verify(ref, params(), { deadline: deadline() });
    expect(second).toMatchObject({ status: 'unverified', code: 'NOT_FOUND' });
  });

  it('needs `count` distinct authorities', async () => {
    const img = await image();
    const second = keyPair('p256');
    await legacySignWithKey(w, img, team.privateKey);
    const p = params({
      authorities: { 'team-key': { key: team.publicPem, ignoreTlog: true }, 'second-key': { key: second.publicPem, ignoreTlog: true } },
      images: [{ pattern: '**', authorities: ['team-key', 'second-key'], count: 2 }],
    });
    const v = verifier();
    const fact = await v.verify(img.ref, p, { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'unverified', code: 'KEY_MISMATCH', need: 2, verified: 1, authorities: ['second-key'] });
    // a second signature layer from the other key makes two
    const payload = simpleSigningPayload(img.name, img.digest);
    await pushLegacySignature(w, img, [{ payload, signature: signBytes(team.privateKey, payload) }, { payload, signature: signBytes(second.privateKey, payload) }]);
    const fresh = verifier();
    expect((await fresh.verify(img.ref, p, { deadline: deadline() })).status).toBe('verified');
  });

  it('counts one key listed under two names once', async () => {
    const img = await image();
    await legacySignWithKey(w, img, team.privateKey);
    const p = params({
      authorities: { a: { key: team.publicPem, ignoreTlog: true }, b: { key: team.publicPem, ignoreTlog: true } },
      images: [{ pattern: '**', authorities: ['a', 'b'], count: 2 }],
    });
    expect(await verifier().verify(img.ref, p, { deadline: deadline() })).toMatchObject({ status: 'unverified', code: 'CONFIG_INVALID', need: 2, verified: 1 });
  });

  it('applies the first matching rule, and noMatch', async () => {
    const img = await image();
    await legacySignWithKey(w, img, team.privateKey);
    const v = verifier();
    const first = params({ images: [{ pattern: `${registry.host}/sig/**`, authorities: ['team-key'] }, { pattern: '**', authorities: ['release'] }] });
    expect((await v.verify(img.ref, first, { deadline: deadline() })).status).toBe('verified');
    const none = params({ images: [{ pattern: 'other.example.com/**', authorities: ['team-key'] }] });
    expect(await v.verify(img.ref, none, { deadline: deadline() })).toMatchObject({ status: 'unverified', code: 'NO_RULE' });
    expect(await v.verify(img.ref, { ...none, noMatch: 'allow' }, { deadline: deadline() })).toMatchObject({ status: 'verified', code: 'NO_RULE_ALLOWED' });
  });

  it('reports configuration problems', () => {
    const problems = signatureParamsProblems({
      ...SIGNED_IMAGES_DEFAULTS,
      authorities: { bad: { key: 'not a key', ignoreTlog: true }, nokey: { keyless: { issuer: ISSUER, subject: 'x' } }, tlog: { key: team.publicPem } },
      images: [{ pattern: '**', authorities: ['bad', 'missing'], count: 3 }],
    });
    expect(problems.join('\n')).toMatch(/missing/);
    expect(problems.join('\n')).toMatch(/count/);
    expect(problems.join('\n')).toMatch(/PEM public key/);
    expect(problems.join('\n')).toMatch(/nokey.*trustedRoot/);
    expect(problems.join('\n')).toMatch(/tlog.*ignoreTlog/);
  });
});

describe('caching, deduplication, deadlines and registry errors', () => {
  it('answers a repeated digest from cache without registry requests', async () => {
    const img = await image();
    await legacySignWithKey(w, img, team.privateKey);
    const v = verifier();
    expect((await v.verify(img.ref, params(), { deadline: deadline() })).status).toBe('verified');
    const before = requests;
    expect((await v.verify(img.ref, params(), { deadline: deadline() })).status).toBe('verified');
    expect(requests).toBe(before);
  });

  it('shares one registry round between concurrent verifications of one digest', async () => {
    const a = await image();
    const b = await image();
    await legacySignWithKey(w, a, team.privateKey);
    await legacySignWithKey(w, b, team.privateKey);
    let before = requests;
    await verifier().verify(a.ref, params(), { deadline: deadline() });
    const one = requests - before;
    const v = verifier();
    before = requests;
    const facts = await Promise.all(Array.from({ length: 8 }, () => v.verify(b.ref, params(), { deadline: deadline() })));
    expect(facts.every((f) => f.status === 'verified')).toBe(true);
    expect(requests - before).toBe(one);
  });

  it('counts results and cache use in the metrics registry', async () => {
    const { Registry } = await import('prom-client');
    const metrics = new Registry();
    const img = await image();
    await legacySignWithKey(w, img, team.privateKey);
    const v = createSignatureVerifier({}, { client, metrics });
    await v.verify(img.ref, params(), { deadline: deadline() });
    await v.verify(img.ref, params(), { deadline: deadline() });
    const text = await metrics.metrics();
    expect(text).toContain('portcullis_signature_verifications_total{result="verified"} 2');
    expect(text).toContain('portcullis_signature_cache_lookups_total{cache="outcome",hit="true"} 1');
  });

  it('answers error when the registry is gone, and within the deadline', async () => {
    const gone = await startRegistry({ auth: 'none', tls: false });
    const host = gone.host;
    await gone.stop();
    const c = new RegistryClient({ insecure: [host], maxTries: 1 });
    const v = createSignatureVerifier({}, { client: c });
    const fact = await v.verify(`${host}/app@sha256:${'a'.repeat(64)}`, params({ images: [{ pattern: '**', authorities: ['team-key'] }] }), { deadline: deadline() });
    expect(fact).toMatchObject({ status: 'error', code: 'REGISTRY_ERROR' });
    const late = await v.verify(`${host}/app:v1`, params({ images: [{ pattern: '**', authorities: ['team-key'] }] }), { deadline: Date.now() - 1 });
    expect(late).toMatchObject({ status: 'error', code: 'REGISTRY_ERROR' });
    await c.close();
  });
});

describe('through the engine (signatureFactGatherer)', () => {
  it('denies with the engine prefix and the fix, and allows a signed image', async () => {
    const { engineWith } = await import('../helpers/engine.js');
    const { evaluateObject, objectOf, KINDS, specWith } = await import('../helpers/pods.js');
    const { signatureFactGatherer } = await import('../../src/signatures/index.js');
    const signed = await image();
    const unsigned = await image();
    await legacySignWithKey(w, signed, team.privateKey);
    const p = params();
    const engine = engineWith(
      { 'require-signed-images': { ...p } },
      { facts: signatureFactGatherer(verifier(), { params: () => p }) },
    );
    const pod = KINDS[0] as (typeof KINDS)[number];
    const ok = await evaluateObject(engine, objectOf(pod, specWith((s) => (s.containers[0].image = signed.ref))));
    expect(ok.violations).toEqual([]);
    const denied = await evaluateObject(engine, objectOf(pod, specWith((s) => (s.containers[0].image = unsigned.ref))));
    expect(denied.allowed).toBe(false);
    expect(denied.message).toMatch(/^\[require-signed-images\] container "app" \(containers\[0\]\): .+ has no signature \(looked for OCI referrers .+ — sign the image digest/);
    expect(denied.violations.map((v) => v.code)).toEqual(['NOT_FOUND']);
  });

  it('names the code in PolicyReport results and SARIF', async () => {
    const { engineWith } = await import('../helpers/engine.js');
    const { evaluateObject, objectOf, KINDS, specWith } = await import('../helpers/pods.js');
    const { signatureFactGatherer } = await import('../../src/signatures/index.js');
    const { buildPolicyReports } = await import('../../src/audit/reports.js');
    const { sarifLog } = await import('../../src/audit/sarif.js');
    const { POLICIES } = await import('../../policies/index.js');
    const img = await image();
    await legacySignWithKey(w, img, other.privateKey);
    const p = params();
    const engine = engineWith({ 'require-signed-images': { ...p } }, { facts: signatureFactGatherer(verifier(), { params: () => p }) });
    const pod = KINDS[0] as (typeof KINDS)[number];
    const decision = await evaluateObject(engine, objectOf(pod, specWith((s) => (s.containers[0].image = img.ref))));
    const subject = { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web', uid: 'web', pods: 1, decision, policies: ['require-signed-images'] };
    const report = buildPolicyReports([subject], { now: new Date(), policies: POLICIES }).namespaced.get('shop');
    expect(report?.results).toMatchObject([{ policy: 'require-signed-images', result: 'fail', properties: { codes: 'KEY_MISMATCH' } }]);
    expect(sarifLog([subject], { version: 'test', policies: POLICIES }).runs[0]?.results).toMatchObject([{ ruleId: 'require-signed-images', properties: { code: 'KEY_MISMATCH' } }]);
  });
});

describe.runIf(requireTool('ocireg', toolPath('ocireg') !== undefined, INSTALL.ocireg))('on a registry with the OCI 1.1 referrers API (ocireg)', () => {
  it('finds bundles through the referrers API alone, and ignores referrers that are not signatures', async () => {
    const oci = await startOcireg(toolPath('ocireg') as string);
    const c = new RegistryClient({ insecure: [oci.host], maxTries: 1 });
    try {
      const ow = new RegistryWriter(oci.host);
      const img = await ow.image('sig/referrers', 'referrers-api');
      // an SBOM-like referrer of another artifact type, then the signature; no sha256-<hex> tag index
      const sbom = await ow.blob(img.repository, Buffer.from('{"sbom":true}'));
      const empty = await ow.blob(img.repository, Buffer.from('{}'));
      await ow.manifest(img.repository, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/spdx+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size }, layers: [{ mediaType: 'application/spdx+json', digest: sbom.digest, size: sbom.size }], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: 1 } });
      await pushBundleReferrer(ow, img, keyBundle(team.privateKey, signStatement(img.digest)), { fallbackIndex: false });
      const tagIndex = await fetch(`http://${oci.host}/v2/${img.repository}/manifests/${img.digest.replace(':', '-')}`);
      expect(tagIndex.status).toBe(404);
      const fact = await createSignatureVerifier({}, { client: c }).verify(img.ref, params({ images: [{ pattern: '**', authorities: ['team-key'] }] }), { deadline: deadline() });
      expect(fact).toMatchObject({ status: 'verified', code: 'VERIFIED' });
    } finally {
      await c.close();
      await oci.stop();
    }
  });
});
