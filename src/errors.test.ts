import { describe, expect, it } from 'vitest';
import { PortcullisError } from './errors.js';
import { ImageReferenceError, parseReference } from './images/reference.js';
import { WorkloadError } from './workload/k8s.js';
import { PolicyListError } from './engine/registry.js';
import { ConfigError, parseConfig } from './config/load.js';

describe('errors', () => {
  it('share one base class with a typed code and their own name', () => {
    const caught = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (err) {
        return err;
      }
      throw new Error('expected a throw');
    };
    const ref = caught(() => parseReference('Nginx:1'));
    expect(ref).toBeInstanceOf(ImageReferenceError);
    expect(ref).toBeInstanceOf(PortcullisError);
    expect(ref).toMatchObject({ code: 'REFERENCE_UPPERCASE', name: 'ImageReferenceError' });
    expect(ref).not.toBeInstanceOf(globalThis.ReferenceError);
    const config = caught(() => parseConfig('mode: x\n'));
    expect(config).toBeInstanceOf(ConfigError);
    expect(config).toMatchObject({ code: 'CONFIG_INVALID', name: 'ConfigError' });
    expect(new WorkloadError('spec', 'object', 1)).toMatchObject({ code: 'INVALID_FIELD', name: 'WorkloadError', message: 'spec: expected object, got number' });
    expect(new PolicyListError('x')).toMatchObject({ code: 'POLICY_LIST_INVALID', name: 'PolicyListError' });
  });
});
