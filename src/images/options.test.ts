import { describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020.js';
import { DEFAULT_REGISTRY_OPTIONS, registryOptionsSchema, registryTimings, resolveRegistryOptions } from './options.js';

describe('registry options', () => {
  it('fills the defaults', () => {
    const o = resolveRegistryOptions({});
    expect(o).toEqual({ ...DEFAULT_REGISTRY_OPTIONS, cache: { ...DEFAULT_REGISTRY_OPTIONS.cache }, insecure: [] });
    expect(registryTimings(o)).toEqual({ timeoutMs: 3000, digestTtlMs: 86_400_000, tagTtlMs: 300_000, failureTtlMs: 10_000, defaultPlatform: { os: 'linux', architecture: 'amd64' } });
  });

  it('merges partial cache settings', () => {
    expect(resolveRegistryOptions({ cache: { tagTtl: '1m' } }).cache).toMatchObject({ tagTtl: '1m', digestTtl: '24h', maxEntries: 10000 });
  });

  it.each([
    [{ timeout: 'soon' }],
    [{ cache: { tagTtl: '5 minutes' } }],
    [{ platform: 'amd64' }],
    [{ concurrencyPerRegistry: 0 }],
    [{ maxResponseBytes: 10 }],
  ])('rejects %j', (bad) => {
    expect(() => resolveRegistryOptions(bad as never)).toThrow(expect.objectContaining({ code: 'REGISTRY_OPTIONS_INVALID' }));
  });

  it('has a JSON Schema that ajv (2020-12) compiles and that agrees with the defaults', () => {
    const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: true, useDefaults: true });
    const validate = ajv.compile(registryOptionsSchema);
    const filled: Record<string, unknown> = {};
    expect(validate(filled)).toBe(true);
    expect(filled).toMatchObject({ enabled: true, timeout: '3s', platform: 'linux/amd64', concurrencyPerRegistry: 16, maxResponseBytes: 4194304 });
    expect(validate({ insecure: ['127.0.0.1:5000'], caFile: '/etc/ca.pem', cache: { tagTtl: '1m' } })).toBe(true);
    expect(validate({ timeout: '3 seconds' })).toBe(false);
    expect(validate({ unknownKey: 1 })).toBe(false);
    expect(validate({ cache: { maxEntries: 0 } })).toBe(false);
  });
});
