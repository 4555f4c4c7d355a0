// Attestations made by real cosign v2 and v3 (`cosign attest --key … --type …`, offline) on Debian's docker-registry
// (cosign v2's sha256-<hex>.att tag; cosign v3 bundles through the referrers tag fallback) and on ocireg (referrers
// API): portcullis must find and verify every format, deny the attacks with a typed code, and agree with
// `cosign verify-attestation` on every image.

import { INSTALL, requireTool } from '../helpers/require-tool.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import { attestationDefaults } from '../../policies/attestation-params.js';
import { createAttestationVerifier, type AttestationParams, type AttestationVerifier } from '../../src/signatures/index.js';
import type { AttestationCode } from '../../src/engine/types.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { RegistryWriter, type PushedImage } from '../helpers/cosign-format.js';
import { Cosign, startOcireg, toolPath, type CosignKeys, type Ocireg } from '../helpers/cosign-cli.js';
import { GRYPE_PREDICATE, SLSA_V02, SLSA_V1, TRIVY_PREDICATE, VULN_PREDICATE, hoursAgo, predicate, predicateFile } from '../helpers/attestations.js';

const cosign2Bin = toolPath('cosign2');
const cosign3Bin = toolPath('cosign3');
const ociregBin = toolPath('ocireg');
const missing = [!cosign2Bin && 'cosign2', !cosign3Bin && 'cosign3', !ociregBin && 'ocireg'].filter(Boolean);
if (missing.length > 0 && process.env.CI === 'true') throw new Error(`real-cosign attestation tests need ${missing.join(', ')}: run scripts/go-tools.sh`);
if (missing.length > 0) console.warn(`skipping real-cosign attestation tests: build ${missing.join(', ')} with scripts/go-tools.sh`);

interface Case {
  name: string;
  ref: string;
  /** the predicate types asked for */
  types: string[];
  /** the --type cosign verify-attestation is given for the cross-check */
  cosignType: string;
  code: AttestationCode;
  /** the cosign major version whose verify-attestation reads this format (v2: .att tag, v3: bundles) */
  cosign: 2 | 3;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

describe.runIf(requireTool(missing.join(', ') || 'cosign and ocireg', missing.length === 0, INSTALL.cosign))('attestations made by real cosign', () => {
  let registry: TestRegistry;
  let ocireg: Ocireg;
  let client: RegistryClient;
  let requests = 0;
  let cosign2: Cosign;
  let cosign3: Cosign;
  let team: CosignKeys;
  let other: CosignKeys;
  let verifier: AttestationVerifier;
  const cases: Case[] = [];

  const params = (pubPem: string, types: string[]): AttestationParams => ({
    ...attestationDefaults(types),
    authorities: { 'team-key': { key: pubPem, ignoreTlog: true } },
    images: [{ pattern: '**', authorities: ['team-key'] }],
  });
  const verify = (v: AttestationVerifier, c: Pick<Case, 'ref' | 'types'>, pub = team.pubPem) => v.verify(c.ref, params(pub, c.types), { deadline: Date.now() + 15_000 });

  // GETs a manifest or blob from a loopback registry.
  async function get(host: string, path: string, accept = `${OCI_MANIFEST}, ${OCI_INDEX}`): Promise<Buffer> {
    const res = await fetch(`http://${host}/v2/${path}`, { headers: { accept } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  beforeAll(async () => {
    cosign2 = new Cosign(cosign2Bin as string, 2);
    cosign3 = new Cosign(cosign3Bin as string, 3);
    [registry, ocireg, team, other] = await Promise.all([startRegistry({ auth: 'none', tls: false }), startOcireg(ociregBin as string), cosign2.generateKeyPair(), cosign3.generateKeyPair()]);
    client = new RegistryClient({ insecure: [registry.host, ocireg.host], observe: () => void requests++, maxTries: 1 });
    verifier = createAttestationVerifier({ tagTtlMs: 0 }, { client });
    const dist = new RegistryWriter(registry.host);
    const oci = new RegistryWriter(ocireg.host);
    let seq = 0;
    const img = (w: RegistryWriter, repo = `att/app${++seq}`): Promise<PushedImage> => w.image(repo, `seed-${++seq}-${Math.random()}`, 'v1');
    const fresh = predicateFile(predicate('trivy-cosign-vuln', hoursAgo(2)));
    const add = (name: string, image: PushedImage, code: AttestationCode, types = [VULN_PREDICATE], cosignType = 'vuln') => cases.push({ name, ref: image.ref, types, cosignType, code, cosign: /v3|referrer/.test(name) ? 3 : 2 });

    // pushes an image, attests it with real cosign and records the case
    const attested = async (name: string, w: RegistryWriter, by: Cosign, keys: CosignKeys, type: string, file: string, code: AttestationCode, types = [VULN_PREDICATE]) => {
      const image = await img(w);
      await by.attest(image.ref, keys, type, file);
      add(name, image, code, types, type);
      return image;
    };
    const provenance = [SLSA_V1, SLSA_V02];
    const a = await attested('cosign v2 vuln (.att tag)', dist, cosign2, team, 'vuln', fresh, 'VERIFIED');
    await attested('cosign v3 vuln (bundle, referrers tag fallback)', dist, cosign3, team, 'vuln', fresh, 'VERIFIED');
    const c = await attested('cosign v3 vuln (referrers API)', oci, cosign3, team, 'vuln', fresh, 'VERIFIED');
    const d = await attested('cosign v2 SLSA v1 provenance', dist, cosign2, team, 'slsaprovenance1', predicateFile(predicate('slsa-provenance-v1')), 'VERIFIED', provenance);
    add('vuln asked, only provenance attested (v2)', d, 'WRONG_PREDICATE_TYPE');
    const e = await attested('cosign v3 SLSA v0.2 provenance (referrers API)', oci, cosign3, team, 'slsaprovenance', predicateFile(predicate('slsa-provenance-v0.2')), 'VERIFIED', provenance);
    add('vuln asked, only provenance attested (v3)', e, 'WRONG_PREDICATE_TYPE');
    await attested('cosign v2 Trivy JSON as a custom predicate type', dist, cosign2, team, TRIVY_PREDICATE, predicateFile(predicate('trivy-report', hoursAgo(1))), 'VERIFIED', [TRIVY_PREDICATE]);
    await attested('cosign v3 Grype JSON as a custom predicate type', oci, cosign3, team, GRYPE_PREDICATE, predicateFile(predicate('grype-report', hoursAgo(1))), 'VERIFIED', [GRYPE_PREDICATE]);
    await attested('scan from an untrusted key (v2: the envelope names no key)', dist, cosign2, other, 'vuln', fresh, 'KEY_MISMATCH');
    await attested('scan from an untrusted key (v3)', oci, cosign3, other, 'vuln', fresh, 'UNTRUSTED_SIGNER');
    add('no attestation', await img(dist), 'NOT_FOUND');

    // copied from another image: a's .att manifest put under the tag of another image of the same repository
    const copied = await img(dist, a.repository);
    const att = await get(registry.host, `${a.repository}/manifests/${a.digest.replace(':', '-')}.att`);
    await dist.manifest(copied.repository, JSON.parse(att.toString('utf8')) as object, `${copied.digest.replace(':', '-')}.att`);
    add('attestation copied from another image (.att tag)', copied, 'OTHER_DIGEST');

    // for another digest: c's referrer re-pointed at another image (its statement still names c's digest)
    const moved = await img(oci, c.repository);
    const refs = JSON.parse((await get(ocireg.host, `${c.repository}/referrers/${c.digest}`)).toString('utf8')) as { manifests: Array<{ digest: string }> };
    const referrer = JSON.parse((await get(ocireg.host, `${c.repository}/manifests/${refs.manifests[0]?.digest}`)).toString('utf8')) as Record<string, any>;
    await oci.manifest(moved.repository, { ...referrer, subject: { mediaType: OCI_MANIFEST, digest: moved.digest, size: 0 } });
    add('attestation for another digest (referrer re-pointed)', moved, 'OTHER_DIGEST');

    // a valid signature over an altered envelope: cosign v3 attests, then the bundle's statement is edited (the
    // CRITICAL findings dropped) and the referrers tag index is rewritten to list only the altered bundle
    const altered = await attested('valid signature over an altered envelope (v3 bundle)', dist, cosign3, team, 'vuln', fresh, 'SIGNATURE_INVALID');
    const indexTag = altered.digest.replace(':', '-');
    const index = JSON.parse((await get(registry.host, `${altered.repository}/manifests/${indexTag}`)).toString('utf8')) as { manifests: Array<Record<string, any>> };
    const orig = JSON.parse((await get(registry.host, `${altered.repository}/manifests/${index.manifests[0]?.digest}`)).toString('utf8')) as Record<string, any>;
    const bundle = JSON.parse((await get(registry.host, `${altered.repository}/blobs/${orig.layers[0].digest}`, '*/*')).toString('utf8')) as Record<string, any>;
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as Record<string, any>;
    for (const r of statement.predicate.scanner.result.Results) r.Vulnerabilities = r.Vulnerabilities.filter((v: { Severity: string }) => v.Severity !== 'CRITICAL');
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const blob = await dist.blob(altered.repository, Buffer.from(JSON.stringify(bundle)));
    const forged = await dist.manifest(altered.repository, { ...orig, layers: [{ ...orig.layers[0], digest: blob.digest, size: blob.size }] });
    await dist.manifest(altered.repository, { ...index, manifests: [{ ...index.manifests[0], digest: forged.digest, size: forged.size }] }, indexTag);
  }, 600_000);

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    await ocireg?.stop();
  });

  it('verifies every format cosign writes and denies each attack with its code', async () => {
    const got: Record<string, string> = {};
    for (const c of cases) got[c.name] = (await verify(verifier, c)).code;
    expect(got).toEqual(Object.fromEntries(cases.map((c) => [c.name, c.code])));
  });

  it('hands the policy the signed predicate of each verified attestation', async () => {
    const v1 = cases.find((c) => c.name === 'cosign v2 SLSA v1 provenance') as Case;
    const fact = await verify(verifier, v1);
    expect(fact.attestations).toMatchObject([{ predicateType: SLSA_V1, authority: 'team-key', predicate: { runDetails: { builder: { id: expect.stringContaining('slsa-github-generator') } } } }]);
  });

  it('agrees with `cosign verify-attestation --key --type` on every image', async () => {
    for (const c of cases) {
      const ours = (await verify(verifier, c)).status === 'verified';
      const theirs = await (c.cosign === 3 ? cosign3 : cosign2).verifyAttestation(c.ref, team.pub, c.cosignType);
      expect({ image: c.name, verified: ours }).toEqual({ image: c.name, verified: theirs });
    }
  }, 600_000);

  it('verifies once per (digest, authority, predicate type): a warm look-up sends no request', async () => {
    const rows: string[] = [];
    for (const c of cases.filter((x) => x.code === 'VERIFIED').slice(0, 3)) {
      const v = createAttestationVerifier({ tagTtlMs: 0 }, { client });
      const before = requests;
      let t = performance.now();
      expect((await verify(v, c)).code).toBe('VERIFIED');
      const cold = performance.now() - t;
      const coldRequests = requests - before;
      t = performance.now();
      const again = await Promise.all([verify(v, c), verify(v, c), verify(v, c)]);
      const warm = (performance.now() - t) / 3;
      expect(again.map((f) => f.code)).toEqual(['VERIFIED', 'VERIFIED', 'VERIFIED']);
      expect(requests - before).toBe(coldRequests);
      expect(coldRequests).toBeLessThanOrEqual(5);
      rows.push(`${c.name}: cold ${cold.toFixed(1)} ms, ${coldRequests} registry requests; warm ${warm.toFixed(3)} ms, 0 requests`);
    }
    console.log(`attestation verification on loopback:\n  ${rows.join('\n  ')}`);
  });
});
