// Watches PolicyExceptions in the namespaces the configuration allows (an informer from @kubernetes/client-node per
// namespace: list, then watch) and keeps the store in step within seconds of a change. Exceptions anywhere else are
// never read. An ignored exception gets a Warning Event saying why.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import { EXCEPTION_API_VERSION, EXCEPTION_KIND, EXCEPTION_PLURAL } from '../engine/exception-spec.js';
import type { ExceptionProblem } from '../engine/exception-spec.js';
import { recordEvent } from '../events/event.js';
import { isObject } from '../workload/k8s.js';
import type { ExceptionStore } from './store.js';

export const IGNORED_REASON = 'ExceptionIgnored';
const NOTE_MAX = 1000;

export interface ExceptionWatchOptions {
  readonly kc: KubeConfig;
  readonly client: KubeClient;
  readonly namespaces: readonly string[];
  readonly store: ExceptionStore;
  readonly logger: Logger;
  /** wait before restarting a failed watch (default 5 s) */
  readonly retryMs?: number;
}

export interface ExceptionWatch {
  /** every namespace has been listed once */
  readonly synced: () => boolean;
  stop(): Promise<void>;
}

interface Informer {
  on(verb: string, cb: (arg?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const collection = (ns: string) => `/apis/${EXCEPTION_API_VERSION}/namespaces/${encodeURIComponent(ns)}/${EXCEPTION_PLURAL}`;

// Records a Warning Event on an ignored exception, once per resourceVersion.
export function ignoredEventRecorder(client: KubeClient, logger: Logger): (obj: unknown, problems: readonly ExceptionProblem[]) => void {
  const sent = new Set<string>();
  return (obj, problems) => {
    const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
    if (typeof meta.name !== 'string' || typeof meta.namespace !== 'string' || typeof meta.uid !== 'string') return;
    const key = `${meta.uid}@${String(meta.resourceVersion ?? '')}`;
    if (sent.has(key)) return;
    sent.add(key);
    const note = `portcullis ignores this exception, it applies nowhere: ${problems.map((p) => p.message).join('; ')}`.slice(0, NOTE_MAX);
    const regarding = { apiVersion: EXCEPTION_API_VERSION, kind: EXCEPTION_KIND, name: meta.name, namespace: meta.namespace, uid: meta.uid };
    recordEvent(client, { regarding, action: 'Validate', reason: IGNORED_REASON, note, at: new Date() }).catch((err: unknown) => {
      logger.warn({ err, exception: `${meta.namespace}/${meta.name}` }, 'could not record the event on an ignored exception');
    });
  };
}

// Starts one informer per namespace; resolves once each has listed (or failed to list) once.
export async function watchExceptions(options: ExceptionWatchOptions): Promise<ExceptionWatch> {
  const { makeInformer } = await import('@kubernetes/client-node');
  const { client, store, logger } = options;
  const retryMs = options.retryMs ?? 5000;
  const informers: Informer[] = [];
  const listed = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const startOne = async (ns: string): Promise<void> => {
    const path = collection(ns);
    const list = async () => {
      const res = await client.request<{ items?: unknown[]; metadata?: { resourceVersion?: string } }>({ path });
      listed.add(ns);
      return { apiVersion: `${EXCEPTION_API_VERSION}`, kind: `${EXCEPTION_KIND}List`, items: (res.items ?? []) as never[], metadata: res.metadata ?? {} };
    };
    const informer = makeInformer(options.kc, path, list as never) as unknown as Informer;
    informers.push(informer);
    informer.on('add', (obj) => void store.upsert(obj));
    informer.on('update', (obj) => void store.upsert(obj));
    informer.on('delete', (obj) => store.remove(obj));
    informer.on('error', (err) => {
      if (stopped) return;
      logger.warn({ err, namespace: ns, retryMs }, 'exception watch failed; restarting it');
      const t = setTimeout(() => {
        timers.delete(t);
        if (!stopped) informer.start().catch((e: unknown) => logger.warn({ err: e, namespace: ns }, 'exception watch restart failed'));
      }, retryMs);
      t.unref();
      timers.add(t);
    });
    await informer.start().catch((err: unknown) => {
      // the informer reports the failure through 'error' too, which schedules the retry
      logger.warn({ err, namespace: ns }, 'could not list PolicyExceptions (is the CRD installed and may portcullis list them?)');
    });
  };
  await Promise.all(options.namespaces.map(startOne));
  logger.info({ namespaces: options.namespaces, exceptions: store.size() }, 'watching PolicyExceptions');
  return {
    synced: () => options.namespaces.every((ns) => listed.has(ns)),
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(informers.map((i) => i.stop().catch(() => undefined)));
    },
  };
}
