// Real cosign v2 and v3 (built from their Go modules by scripts/go-tools.sh) sign test images on Debian's
// docker-registry (no referrers API: cosign v3 falls back to the sha256-<hex> tag index) and on ocireg (referrers
// API); portcullis must verify every format, and agree with `cosign verify` on every image.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import type { SignatureCode } from '../../src/engine/types.js';
import { createSignatureVerifier, type SignatureVerifier, type SignedImagesParams } from '../../src/signatures/index.js';
import { SIGNED_IMAGES_DEFAULTS } from '../../policies/require-signed-images/params.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushLayoutTag, pushTestImages } from '../helpers/registry-images.js';
import { Cosign, startOcireg, toolPath, type CosignKeys, type Ocireg } from '../helpers/cosign-cli.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';
import { RegistryWriter, type PushedImage } from '../helpers/cosign-format.js';

const sigTagOf = (digest: string) => `${digest.replace(':', '-')}.sig`;
const getJson = async (url: string): Promise<object> => (await fetch(url, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as Promise<object>;

const cosign2Bin = toolPath('cosign2');
const cosign3Bin = toolPath('cosign3');
const ociregBin = toolPath('ocireg');
const missing = [!cosign2Bin && 'cosign2', !cosign3Bin && 'cosign3', !ociregBin && 'ocireg'].filter(Boolean);
const runnable = requireTool(missing.join(', '), missing.length === 0, INSTALL.cosign);

interface Case {
  name: string;
  ref: string;
  /** whether it carries a signature by the team key */
  signed: boolean;
  /** the code verification with the team key answers */
  code: SignatureCode;
}

describe.runIf(runnable)('signatures made by real cosign', () => {
  let registry: TestRegistry;
  let ocireg: Ocireg;
  let client: RegistryClient;
  let cosign2: Cosign;
  let cosign3: Cosign;
  let team: CosignKeys;
  let other: CosignKeys;
  const cases: Case[] = [];
  let verifier: SignatureVerifier;

  const params = (pubPem: string): SignedImagesParams => ({
    ...SIGNED_IMAGES_DEFAULTS,
    authorities: { 'team-key': { key: pubPem, ignoreTlog: true } },
    images: [{ pattern: '**', authorities: ['team-key'] }],
  });

  beforeAll(async () => {
    cosign2 = new Cosign(cosign2Bin as string, 2);
    cosign3 = new Cosign(cosign3Bin as string, 3);
    [registry, ocireg, team, other] = await Promise.all([
      startRegistry({ auth: 'none', tls: false }),
      startOcireg(ociregBin as string),
      cosign2.generateKeyPair(),
      cosign3.generateKeyPair(),
    ]);
    client = new RegistryClient({ insecure: [registry.host, ocireg.host] });
    verifier = createSignatureVerifier({ tagTtlMs: 0 }, { client });
    const imgs = await pushTestImages(registry, { only: ['user-1000', 'user-65532', 'user-nginx', 'user-root', 'user-0', 'user-1000-1000'] });
    const at = (name: string) => `${registry.host}/${imgs[name]?.repository}@${imgs[name]?.digest}`;
    const multiDigest = await pushLayoutTag(registry, 'multi', 'portcullis/multi', 'v1', ['--all']);
    const ociLike = { ...registry, host: ocireg.host, url: `http://${ocireg.host}`, auth: 'none' as const, tls: false, logs: () => '' };
    const ociDigest = await pushLayoutTag(ociLike, 'user-1000', 'portcullis/referrers', 'v1');
    const ociRef = `${ocireg.host}/portcullis/referrers@${ociDigest}`;

    await cosign2.sign(at('user-1000'), team);
    cases.push({ name: 'cosign v2 default (.sig tag, simple signing)', ref: at('user-1000'), signed: true, code: 'VERIFIED' });
    await cosign3.sign(at('user-65532'), team);
    cases.push({ name: 'cosign v3 default (bundle, referrers tag fallback)', ref: at('user-65532'), signed: true, code: 'VERIFIED' });
    await cosign3.sign(at('user-nginx'), team, ['--new-bundle-format=false']);
    cases.push({ name: 'cosign v3 --new-bundle-format=false (.sig tag)', ref: at('user-nginx'), signed: true, code: 'VERIFIED' });
    await cosign3.sign(ociRef, team);
    cases.push({ name: 'cosign v3 on a registry with the referrers API', ref: ociRef, signed: true, code: 'VERIFIED' });
    cases.push({ name: 'unsigned image', ref: at('user-root'), signed: false, code: 'NOT_FOUND' });
    await cosign2.sign(at('user-0'), other);
    cases.push({ name: 'signed by another key (v2)', ref: at('user-0'), signed: false, code: 'KEY_MISMATCH' });
    await cosign3.sign(at('user-1000-1000'), other);
    cases.push({ name: 'signed by another key (v3 bundle)', ref: at('user-1000-1000'), signed: false, code: 'UNTRUSTED_SIGNER' });
    await cosign2.sign(`${registry.host}/portcullis/multi@${multiDigest}`, team);
    cases.push({ name: 'multi-arch index signed at its digest, referenced by tag', ref: `${registry.host}/portcullis/multi:v1`, signed: true, code: 'VERIFIED' });

    // attacks on cosign v2 signatures: a's .sig manifest copied under b's .sig tag, and c's payload altered
    const w = new RegistryWriter(registry.host);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((x) => w.image('portcullis/attacks', `attack-${x}`)));
    await Promise.all([cosign2.sign((a as PushedImage).ref, team), cosign2.sign((c as PushedImage).ref, team)]);
    const sigManifest = await getJson(`${registry.url}/v2/portcullis/attacks/manifests/${sigTagOf((a as PushedImage).digest)}`);
    await w.manifest('portcullis/attacks', sigManifest, sigTagOf((b as PushedImage).digest));
    cases.push({ name: 'cosign v2 signature copied from another image', ref: (b as PushedImage).ref, signed: false, code: 'OTHER_DIGEST' });
    const signedC = await getJson(`${registry.url}/v2/portcullis/attacks/manifests/${sigTagOf((c as PushedImage).digest)}`) as { layers: Array<{ digest: string; size: number }> };
    const layer = signedC.layers[0] as { digest: string; size: number };
    const payload = JSON.parse(await (await fetch(`${registry.url}/v2/portcullis/attacks/blobs/${layer.digest}`)).text()) as Record<string, unknown>;
    const altered = await w.blob('portcullis/attacks', Buffer.from(JSON.stringify({ ...payload, optional: { approved: 'yes' } })));
    await w.manifest('portcullis/attacks', { ...signedC, layers: [{ ...layer, digest: altered.digest, size: altered.size }] }, sigTagOf((c as PushedImage).digest));
    cases.push({ name: 'cosign v2 signature over an altered payload', ref: (c as PushedImage).ref, signed: false, code: 'KEY_MISMATCH' });
  }, 600_000);

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    await ocireg?.stop();
  });

  it('verifies every format cosign writes, and denies the rest with the code that says why', async () => {
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const c of cases) {
      const fact = await verifier.verify(c.ref, params(team.pubPem), { deadline: Date.now() + 10_000 });
      got[c.name] = `${fact.status} ${fact.code}`;
      want[c.name] = `${c.signed ? 'verified' : 'unverified'} ${c.code}`;
    }
    // a v2 .sig layer names no key: another key and an altered payload look alike, so it is KEY_MISMATCH; a v3
    // bundle's key hint names the other key, so it is UNTRUSTED_SIGNER
    expect(got).toEqual(want);
  });

  it('agrees with `cosign verify --key --insecure-ignore-tlog` on every image and key', async () => {
    for (const keys of [team, other]) {
      for (const c of cases) {
        const ours = (await verifier.verify(c.ref, params(keys.pubPem), { deadline: Date.now() + 10_000 })).status === 'verified';
        const theirs = await cosign3.verify(c.ref, keys.pub);
        expect({ image: c.name, key: keys === team ? 'team' : 'other', verified: ours }).toEqual({ image: c.name, key: keys === team ? 'team' : 'other', verified: theirs });
      }
    }
  }, 300_000);

  it('cosign v2 verify agrees on the legacy-format images', async () => {
    for (const c of cases.filter((x) => x.name.includes('.sig tag') || x.name.includes('(v2)') || x.name.startsWith('cosign v2 signature'))) {
      const ours = (await verifier.verify(c.ref, params(team.pubPem), { deadline: Date.now() + 10_000 })).status === 'verified';
      expect({ image: c.name, verified: await cosign2.verify(c.ref, team.pub) }).toEqual({ image: c.name, verified: ours });
    }
  }, 300_000);
});
