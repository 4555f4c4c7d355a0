import { describe, expect, it } from 'vitest';
import { runFixtures } from '../../test/helpers/fixtures.js';
import { configWith } from '../../test/helpers/engine.js';
import { ConfigError } from '../../src/config/load.js';
import { specWith } from '../../test/helpers/pods.js';
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
