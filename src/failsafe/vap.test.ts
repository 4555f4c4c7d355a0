// What the fail-safe renders for glob parameters and exclusions: RE2 patterns when the globs translate, the policy
// listed with the pattern named when they do not.
import { describe, expect, it } from 'vitest';
import { configWith } from '../../test/helpers/engine.js';
import { renderFailSafe } from './vap.js';

type Json = Record<string, any>;

const policyDoc = (documents: readonly Json[], id: string): Json | undefined =>
  documents.find((d) => d.kind === 'ValidatingAdmissionPolicy' && d.metadata.name === `portcullis-${id}`);

describe('renderFailSafe', () => {
  it('gives restrict-image-registries its allowed globs and their RE2 patterns', () => {
    const { documents, inexpressible } = renderFailSafe(configWith({ 'restrict-image-registries': { action: 'deny', allowed: ['registry.example.com/**', 'docker.io/library/*'] } }));
    expect(inexpressible).toEqual([]);
    const params = policyDoc(documents, 'restrict-image-registries')!.spec.variables.find((v: Json) => v.name === 'params').expression as string;
    expect(params).toContain('"allowed": dyn(["registry.example.com/**", "docker.io/library/*"])');
    expect(params).toContain(String.raw`"allowedPatterns": dyn(["^registry\\.example\\.com(?:/.*)?$", "^docker\\.io/library/[^/]*$"])`);
  });

  it('lists restrict-image-registries when an allowed glob uses syntax it does not translate', () => {
    const { documents, inexpressible } = renderFailSafe(configWith({ 'restrict-image-registries': { action: 'deny', allowed: ['registry.example.com/{team,infra}/*'] } }));
    expect(policyDoc(documents, 'restrict-image-registries')).toBeUndefined();
    expect(inexpressible).toEqual([{ policy: 'restrict-image-registries', reason: expect.stringContaining('allowed pattern "registry.example.com/{team,infra}/*"') }]);
  });

  it('lists a policy whose exclude.images uses syntax it does not translate, and renders one whose globs translate', () => {
    const { documents, inexpressible } = renderFailSafe(configWith({
      'disallow-privileged': { action: 'deny', exclude: { images: ['registry.k8s.io/[a-z]*'] } },
      'disallow-host-path': { action: 'deny', exclude: { images: ['registry.k8s.io/**'] } },
    }));
    expect(inexpressible).toEqual([{ policy: 'disallow-privileged', reason: expect.stringContaining('exclude.images pattern "registry.k8s.io/[a-z]*"') }]);
    expect(policyDoc(documents, 'disallow-host-path')).toBeDefined();
  });
});
