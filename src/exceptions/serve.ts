// `portcullis serve` and PolicyExceptions: the flags, the store the engine reads, and the informer that fills it.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { parseDuration } from '../certs/duration.js';
import { DEFAULT_MAX_EXCEPTION_MS } from '../engine/exception-spec.js';
import type { ExceptionProblem } from '../engine/exception-spec.js';
import { POLICY_IDS } from '../../policies/index.js';
import { createKubeClient, loadKubeConfig } from '../kube/client.js';
import { createExceptionStore } from './store.js';
import type { ExceptionStore } from './store.js';
import { ignoredEventRecorder, watchExceptions } from './informer.js';
import type { ExceptionWatch } from './informer.js';

const SWEEP_MS = 5000;

export const EXCEPTION_SERVE_FLAGS = {
  exceptions: { type: 'boolean', default: false },
  'exception-namespace': { type: 'string', multiple: true },
  'exception-max-duration': { type: 'string', default: '90d' },
} as const;

export const EXCEPTION_SERVE_USAGE = `  --exceptions          apply PolicyExceptions (portcullis.dev/v1alpha1), watched in the allowed namespaces
  --exception-namespace NS  a namespace PolicyExceptions are read from; repeatable (default: --namespace,
                        else $POD_NAMESPACE: portcullis's own, so a team cannot exempt itself)
  --exception-max-duration D  an exception expiring later than this from now is ignored (default 90d)`;

export interface ExceptionServeValues {
  exceptions?: boolean;
  'exception-namespace'?: string[];
  'exception-max-duration'?: string;
  kubeconfig?: string;
  namespace?: string;
}

export interface ServedExceptions {
  readonly store: ExceptionStore;
  /** starts the informers; the store stays empty until then */
  start(): Promise<ExceptionWatch>;
}

// The longest an exception may run, from --exception-max-duration (or the CLI's flag of the same name).
export function maxDurationOf(text: string | undefined): number {
  return text === undefined ? DEFAULT_MAX_EXCEPTION_MS : parseDuration(text, '--exception-max-duration');
}

// The store and its informers from the serve flags; undefined without --exceptions. Throws on a bad flag.
export function exceptionsFromFlags(values: ExceptionServeValues, deps: { logger: Logger; registry: Registry }): ServedExceptions | undefined {
  if (!values.exceptions) return undefined;
  const maxDurationMs = maxDurationOf(values['exception-max-duration']);
  const namespaces = values['exception-namespace']?.length ? values['exception-namespace'] : [values.namespace ?? process.env.POD_NAMESPACE].flatMap((n) => (n ? [n] : []));
  if (namespaces.length === 0) throw new Error('--exceptions: expected --exception-namespace, --namespace or $POD_NAMESPACE, got none');
  const logger = deps.logger.child({ component: 'exceptions' });
  let onIgnored: ((obj: unknown, problems: readonly ExceptionProblem[]) => void) | undefined;
  const store = createExceptionStore({ logger, policyIds: POLICY_IDS, maxDurationMs, metrics: deps.registry, onIgnored: (obj, problems) => onIgnored?.(obj, problems) });
  return {
    store,
    async start() {
      const kc = await loadKubeConfig(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {});
      const client = createKubeClient(kc);
      onIgnored = ignoredEventRecorder(client, logger);
      const watch = await watchExceptions({ kc, client, namespaces, store, logger });
      // the engine stops applying an exception at its expiry by itself; this only says so in the log and the gauge
      const sweeper = setInterval(() => store.sweep(), SWEEP_MS);
      sweeper.unref();
      return {
        synced: watch.synced,
        async stop() {
          clearInterval(sweeper);
          await watch.stop();
          client.close();
        },
      };
    },
  };
}
