import { describe, expect, it } from 'vitest';
import { runFixtures } from '../../test/helpers/fixtures.js';
import { configWith, engineWith } from '../../test/helpers/engine.js';
import { NO_FACTS } from '../../src/engine/facts.js';
import { ConfigError } from '../../src/config/load.js';
import { evaluateObject, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import { requireSignedImages } from './policy.js';
import { fixtures, TEAM_PARAMS } from './fixtures.js';

runFixtures('require-signed-images', fixtures);

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
    const facts = { gather: async () => ({ ...NO_FACTS, signature: () => ({ status: 'verified' as const, message: 'signed by team-key', verifiedAtTag: '1.4.2' }) }) };
    const decision = await evaluateObject(engineWith({ 'require-signed-images': TEAM_PARAMS }, { facts }), objectOf(KINDS[0]!, specWith(() => undefined)));
    expect(decision.allowed).toBe(true);
    expect(decision.violations).toMatchObject([{ policy: 'require-signed-images', effect: 'warn', wouldDeny: false }]);
    expect(decision.warnings[0]).toContain('tags move');
  });
});
