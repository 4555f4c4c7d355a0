import { describe, expect, it } from 'vitest';
import { authsFromSecret } from './pull-secrets.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

describe('authsFromSecret', () => {
  it('reads kubernetes.io/dockerconfigjson', () => {
    const auths = { 'registry.example.com': { auth: 'dTpw' } };
    expect(authsFromSecret('kubernetes.io/dockerconfigjson', { '.dockerconfigjson': b64({ auths }) })).toEqual(auths);
  });
  it('reads the legacy kubernetes.io/dockercfg', () => {
    const auths = { 'registry.example.com': { username: 'u', password: 'p' } };
    expect(authsFromSecret('kubernetes.io/dockercfg', { '.dockercfg': b64(auths) })).toEqual(auths);
  });
  it('ignores other types and garbage', () => {
    expect(authsFromSecret('Opaque', { '.dockerconfigjson': b64({ auths: {} }) })).toBeUndefined();
    expect(authsFromSecret('kubernetes.io/dockerconfigjson', { '.dockerconfigjson': 'not base64 json' })).toBeUndefined();
    expect(authsFromSecret('kubernetes.io/dockerconfigjson', undefined)).toBeUndefined();
  });
});
