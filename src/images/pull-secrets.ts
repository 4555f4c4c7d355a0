// Registry credentials from a pod's imagePullSecrets and its service account's, read from the API server
// (opt-in: registry.usePullSecrets, which needs RBAC to get Secrets and ServiceAccounts).
import { WatchedCache } from './watched-cache.js';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodSpec } from '../workload/k8s.js';
import type { FactRequest } from '../engine/facts.js';
import { settleBy } from '../engine/deadline.js';
import type { DockerAuthEntry, DockerConfigJson } from './credentials.js';

const SECRET_TTL_MS = 60_000;

type Auths = Record<string, DockerAuthEntry>;

// Decodes a kubernetes.io/dockerconfigjson or legacy kubernetes.io/dockercfg Secret into its auths.
export function authsFromSecret(type: string | undefined, data: Record<string, string> | undefined): Auths | undefined {
  try {
    if (type === 'kubernetes.io/dockerconfigjson' && data?.['.dockerconfigjson']) {
      const parsed = JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')) as { auths?: Auths };
      return parsed.auths && typeof parsed.auths === 'object' ? parsed.auths : undefined;
    }
    if (type === 'kubernetes.io/dockercfg' && data?.['.dockercfg']) {
      const parsed = JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8')) as Auths;
      return parsed && typeof parsed === 'object' ? parsed : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

// The credentials of the request's pod, when pull secrets are in use and the request has a namespace.
export async function requestCredentials(reader: PullSecretReader | undefined, request: FactRequest): Promise<DockerConfigJson | undefined> {
  return reader && request.namespace ? reader.credentialsFor(request.namespace, request.pod.spec, request.deadline) : undefined;
}

/** What peekCredentials answers while a pull secret or service account read is missing, expired or in flight. */
export const NOT_CACHED = Symbol('not cached');

// The credentials requestCredentials would answer, from the reader's cache alone, or NOT_CACHED.
export function peekRequestCredentials(reader: PullSecretReader | undefined, request: FactRequest): DockerConfigJson | undefined | typeof NOT_CACHED {
  if (!reader || !request.namespace) return undefined;
  return reader.peekCredentials ? reader.peekCredentials(request.namespace, request.pod.spec) : NOT_CACHED;
}

export interface PullSecretReader {
  /** the merged auths of the pod's pull secrets, then its service account's (the first one naming a host wins) */
  credentialsFor(namespace: string, spec: PodSpec, deadline: number): Promise<DockerConfigJson | undefined>;
  /** the same, from reads already done and still fresh; NOT_CACHED when one is missing or in flight */
  peekCredentials?(namespace: string, spec: PodSpec): DockerConfigJson | undefined | typeof NOT_CACHED;
}

/** One read of the API, shared while in flight, with its value once it settled. */
interface Read<T> {
  readonly promise: Promise<T>;
  settled: boolean;
  value?: T;
}

// Starts a read whose value is kept on it once it settles (reads never reject: failures settle as a fallback value).
function readOf<T>(promise: Promise<T>): Read<T> {
  const read: Read<T> = { promise, settled: false };
  void promise.then((value) => {
    read.value = value;
    read.settled = true;
  });
  return read;
}

// The pod's pull secrets and then its service account's, each once.
function secretNames(spec: PodSpec, fromAccount: readonly string[]): string[] {
  return [...new Set([...spec.imagePullSecrets, ...fromAccount])];
}

// Merges the auths of the secrets in order: the first one naming a host wins.
function mergeAuths(all: ReadonlyArray<Auths | undefined>): DockerConfigJson | undefined {
  const auths: Auths = {};
  for (const entry of all) {
    for (const [host, value] of Object.entries(entry ?? {})) if (!(host in auths)) auths[host] = value;
  }
  return Object.keys(auths).length > 0 ? { auths } : undefined;
}

// Reads pull secrets through the API (connected on first use), caching each Secret and ServiceAccount briefly.
export function createPullSecretReader(connect: () => Promise<CoreV1Api>, logger?: Logger): PullSecretReader {
  let apiPromise: Promise<CoreV1Api> | undefined;
  const api = (): Promise<CoreV1Api> =>
    (apiPromise ??= connect().catch((err: unknown) => {
      apiPromise = undefined;
      throw err;
    }));
  // each Secret and ServiceAccount is read once per TTL; concurrent callers share the read in flight
  const secrets = new WatchedCache<string, Read<Auths | undefined>>({ max: 1000, ttl: SECRET_TTL_MS });
  const accounts = new WatchedCache<string, Read<string[]>>({ max: 1000, ttl: SECRET_TTL_MS });

  function secretAuths(namespace: string, name: string): Read<Auths | undefined> {
    const key = `${namespace}/${name}`;
    let read = secrets.get(key);
    if (!read) {
      read = readOf(
        api()
          .then((core) => core.readNamespacedSecret({ name, namespace }))
          .then(
            (secret) => authsFromSecret(secret.type, secret.data),
            (err: unknown) => {
              logger?.warn({ namespace, secret: name, err: (err as Error).message }, 'cannot read image pull secret');
              return undefined;
            },
          ),
      );
      secrets.set(key, read);
    }
    return read;
  }

  function accountSecrets(namespace: string, name: string): Read<string[]> {
    const key = `${namespace}/${name}`;
    let read = accounts.get(key);
    if (!read) {
      read = readOf(
        api()
          .then((core) => core.readNamespacedServiceAccount({ name, namespace }))
          .then(
            (sa) => (sa.imagePullSecrets ?? []).flatMap((r) => (r.name ? [r.name] : [])),
            (err: unknown) => {
              logger?.warn({ namespace, serviceAccount: name, err: (err as Error).message }, 'cannot read service account');
              return [];
            },
          ),
      );
      accounts.set(key, read);
    }
    return read;
  }

  async function merged(namespace: string, spec: PodSpec): Promise<DockerConfigJson | undefined> {
    const fromAccount = await accountSecrets(namespace, spec.serviceAccountName ?? 'default').promise;
    return mergeAuths(await Promise.all(secretNames(spec, fromAccount).map((name) => secretAuths(namespace, name).promise)));
  }

  // merged() from settled reads only: a read that is missing or expired is not started here
  function peekMerged(namespace: string, spec: PodSpec): DockerConfigJson | undefined | typeof NOT_CACHED {
    const account = accounts.get(`${namespace}/${spec.serviceAccountName ?? 'default'}`);
    if (!account?.settled) return NOT_CACHED;
    const all: Array<Auths | undefined> = [];
    for (const name of secretNames(spec, account.value ?? [])) {
      const read = secrets.get(`${namespace}/${name}`);
      if (!read?.settled) return NOT_CACHED;
      all.push(read.value);
    }
    return mergeAuths(all);
  }

  return {
    credentialsFor: (namespace, spec, deadline) => settleBy(merged(namespace, spec).catch(() => undefined), deadline, () => undefined),
    peekCredentials: peekMerged,
  };
}
