import { describe, expect, it } from 'vitest';
import { runFixtureCodes, runFixtures } from '../../test/helpers/fixtures.js';
import { configWith, engineWith } from '../../test/helpers/engine.js';
import { ConfigError } from '../../src/config/load.js';
import { evaluateObject, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import { requireSignedImages } from './policy.js';
import { CODES, fixtures, signature, TEAM_PARAMS } from './fixtures.js';

runFixtures('require-signed-images', fixtures);
runFixtureCodes('require-signed-images', fixtures, CODES);

describe('require-signed-images parameters', () => {
  it('are accepted inline next to action, with defaults filled in', () => {
    const config = configWith({ 'require-signed-images': { action: 'deny', ...TEAM_PARAMS, noMatch: 'allow' } });
    expect(config.policies['require-signed-images']?.params).toMatchObject({ ...TEAM_PARAMS, noMatch: 'allow', onError: 'deny', trustedRoot: '' });
  });

  it('reject an authority that is neither a key nor keyless, and a bad noMatch', () => {
    const bad = () => configWith({ 'require-signed-images': { action: 'deny', authorities: { x: { ignoreTlog: true } }, images: [], noMatch: 'maybe' } });
    expect(bad).toThrowError(ConfigError);
    const keylessWithoutSubject = () => configWith({ 'require-signed-images': { action: 'deny', authorities: { x: { keyless: { issuer: 'https://i' } } } } });
    expect(keylessWithoutSubject).toThrowError(ConfigError);
  });

  it('asks for signature facts only for images a rule matches', () => {
    const spec = specWith((s) => s.containers.push({ ...s.containers[0], name: 'other', image: 'nginx:1.27' }));
    const pod = { path: 'spec', spec, windows: false, containers: spec.containers.map((container: any, index: number) => ({ list: 'containers', index, name: container.name, container })) };
    const sites = requireSignedImages.needsFacts?.(pod as never, { ...requireSignedImages.defaults, ...TEAM_PARAMS }) ?? [];
    expect(sites.map((s) => s.name)).toEqual(['app']);
  });
});

describe('require-signed-images on a tag-only reference', () => {
  it('allows an image verified at the digest its tag names now, with a warning that tags move', async () => {
    const facts = signature({ status: 'verified', code: 'VERIFIED', authorities: ['team-key'], verifiedAtTag: '1.4.2' });
    const decision = await evaluateObject(engineWith({ 'require-signed-images': TEAM_PARAMS }, { facts }), objectOf(KINDS[0]!, specWith(() => undefined)));
    expect(decision.allowed).toBe(true);
    expect(decision.violations).toMatchObject([{ policy: 'require-signed-images', effect: 'warn', wouldDeny: false, code: 'VERIFIED_AT_TAG' }]);
    expect(decision.warnings[0]).toContain('tags move');
  });
});

describe('require-signed-images messages', () => {
  const deny = async (name: string) => {
    const f = fixtures.fail.find((x) => x.name === name);
    if (!f) throw new Error(`no fail fixture named "${name}"`);
    const decision = await evaluateObject(engineWith({ 'require-signed-images': f.params ?? {} }, f.facts ? { facts: f.facts } : {}), objectOf(KINDS[0]!, f.spec));
    return decision.violations[0]?.message;
  };

  it('does not call a legacy signature that fails with the key "signed by another key" alone: it may be altered', async () => {
    expect(await deny('signature that does not verify with the key (legacy .sig)')).toBe(
      '[require-signed-images] container "app" (containers[0]): registry.example.com/team/app:1.4.2@sha256:3f1c2a9b7e4d… has no signature from authority "team-key" (found 1: does not verify with key sha256:ab12cd34ef56…: signed by another key, or its payload was altered)' +
        " — sign the image digest with the authority's key (cosign sign --key), or add the signer's key as an authority; if that key signed it, the payload was altered: sign again and find who rewrote it",
    );
  });

  it('names a copied signature and asks for this digest to be signed', async () => {
    expect(await deny('signature copied from another image')).toMatch(/\(found 1: signature over another digest \(sha256:9d0e1f2a3b4c…\)\) — sign this image's own digest/);
  });

  it('says where it looked when there is no signature', async () => {
    expect(await deny('no signature found')).toMatch(/: registry\.example\.com\/team\/app:1\.4\.2@sha256:3f1c2a9b7e4d… has no signature \(looked for OCI referrers and the sha256-3f1c2a9b7e4d….sig tag\) — sign the image digest/);
  });
});
