import { describe, expect, it } from 'vitest';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { PodSpec } from '../workload/k8s.js';
import { authsFromSecret, createPullSecretReader, NOT_CACHED } from './pull-secrets.js';

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

describe('pull secret reader peek', () => {
  const auths = (user: string) => ({ 'registry.example.com': { auth: Buffer.from(`${user}:pw`).toString('base64') } });
  const spec = (imagePullSecrets: string[]) => ({ imagePullSecrets, serviceAccountName: 'builder' }) as unknown as PodSpec;

  // An API whose reads answer when released, counting them.
  function api() {
    const pending: Array<() => void> = [];
    const reads: string[] = [];
    const later = <T>(what: string, value: T): Promise<T> => {
      reads.push(what);
      return new Promise<T>((resolve) => pending.push(() => resolve(value)));
    };
    const core = {
      readNamespacedServiceAccount: ({ name }: { name: string }) => later(`sa/${name}`, { imagePullSecrets: [{ name: 'from-sa' }] }),
      readNamespacedSecret: ({ name }: { name: string }) => later(`secret/${name}`, { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64({ auths: auths(name) }) } }),
    };
    const release = async () => {
      while (pending.length > 0) {
        for (const r of pending.splice(0)) r();
        await new Promise((r) => setImmediate(r));
      }
    };
    return { connect: async () => core as unknown as CoreV1Api, reads, release };
  }

  it('answers NOT_CACHED until the reads settled, then what credentialsFor answers, without reading again', async () => {
    const a = api();
    const reader = createPullSecretReader(a.connect);
    expect(reader.peekCredentials?.('team', spec(['own']))).toBe(NOT_CACHED);
    expect(a.reads).toEqual([]);
    const pending = reader.credentialsFor('team', spec(['own']), Date.now() + 5000);
    await new Promise((r) => setImmediate(r));
    expect(reader.peekCredentials?.('team', spec(['own']))).toBe(NOT_CACHED);
    await a.release();
    const read = await pending;
    expect(read).toEqual({ auths: auths('own') });
    const reads = a.reads.length;
    expect(reader.peekCredentials?.('team', spec(['own']))).toEqual(read);
    // another namespace, or a secret not read yet: not cached
    expect(reader.peekCredentials?.('other', spec(['own']))).toBe(NOT_CACHED);
    expect(reader.peekCredentials?.('team', spec(['own', 'new']))).toBe(NOT_CACHED);
    expect(a.reads.length).toBe(reads);
  });
});
