import { describe, expect, it } from 'vitest';
import { runFixtureCodes, runFixtures } from '../../test/helpers/fixtures.js';
import { configWith, engineWith } from '../../test/helpers/engine.js';
import { evaluateObject, KINDS, objectOf } from '../../test/helpers/pods.js';
import { SLSA_V02, SLSA_V1, predicate } from '../../test/helpers/attestations.js';
import { CODES, PROVENANCE_PARAMS, fixtures } from './fixtures.js';
import { normalizeRepository, readProvenance } from './provenance.js';

runFixtures('require-provenance', fixtures);

const ID = 'require-provenance';

runFixtureCodes(ID, fixtures, CODES);

describe('require-provenance denial', () => {
  it('names the builder and source it found and what to do', async () => {
    const f = fixtures.fail[0]!;
    const decision = await evaluateObject(engineWith({ [ID]: f.params ?? {} }, f.facts ? { facts: f.facts } : {}), objectOf(KINDS[0]!, f.spec));
    expect(decision.message).toBe('[require-provenance] container "app" (containers[0]): the SLSA provenance of sha256:0123456789ab… says it was built by "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0", not an allowed builder — build the image with an allowed builder, or add its id to policies.require-provenance.builderIds');
  });
});

describe('SLSA provenance', () => {
  it('reads builder, repository and ref from v1 and v0.2', () => {
    const want = { repository: 'github.com/example/app', ref: 'refs/heads/main' };
    expect(readProvenance(SLSA_V1, predicate('slsa-provenance-v1'))).toMatchObject({ builderId: expect.stringMatching(/@refs\/tags\/v2\.0\.0$/), ...want });
    expect(readProvenance(SLSA_V02, predicate('slsa-provenance-v0.2'))).toMatchObject({ builderId: expect.stringMatching(/@refs\/tags\/v1\.10\.0$/), ...want });
    expect(readProvenance(SLSA_V1, { runDetails: {} })).toBe('the provenance names no builder id');
  });

  it('normalizes source URIs to host/path and ref', () => {
    expect(normalizeRepository('git+https://github.com/example/app.git@refs/tags/v1.2.0')).toEqual({ repository: 'github.com/example/app', ref: 'refs/tags/v1.2.0' });
    expect(normalizeRepository('https://gitlab.com/group/sub/app')).toEqual({ repository: 'gitlab.com/group/sub/app', ref: '' });
    expect(normalizeRepository('git@github.com:example/app.git')).toEqual({ repository: 'github.com/example/app', ref: '' });
  });

  it('parameters default to both SLSA predicate types', () => {
    expect(configWith({ [ID]: { action: 'deny', ...PROVENANCE_PARAMS } }).policies[ID]?.params).toMatchObject({ predicateTypes: [SLSA_V1, SLSA_V02], sourceRef: '' });
  });
});
